"""`wardgate import FILE`: bulk-load customers (being written)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def import_command(
    file: Annotated[Path, typer.Argument(help="customers.csv or customers.jsonl")],
) -> None:
    """Validate, encrypt and load customers from a CSV or JSON Lines file."""
    raise typer.Exit(2)
