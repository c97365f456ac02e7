"""Options every command shares, defined once, and the one way a command gets its settings.

The data directory is `--data-dir`, else `$WARDGATE_DATA_DIR`, else `./wardgate-data`
(relative to the directory the command runs in) — for every command, `wardgate serve`
and `make demo` alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.errors import OperatorError
from gateway.settings import Settings, get_settings

DEFAULT_DATA_DIR = Settings().data_dir

DATA_DIR_HELP = (
    "Data directory: the store, master key and demo keys. "
    f"Default: $WARDGATE_DATA_DIR if set, else ./{DEFAULT_DATA_DIR}."
)

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help=DATA_DIR_HELP, show_default=False, metavar="DIR"),
]


def cli_settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings from the environment, with the command's options on top (None keeps
    the environment's value)."""
    try:
        settings = get_settings()
    except ValueError as exc:
        msg = f"a WARDGATE_* environment variable is invalid: {exc}"
        raise OperatorError(msg) from None
    return settings.with_overrides(data_dir=data_dir, **overrides)
