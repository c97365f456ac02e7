"""`wardgate scan FILE`: which PII types each column of a CSV or JSON Lines file holds.

Needs no data directory or store: it reads the file, detects offline and prints counts,
never a value. Exit status: 0 scanned, 2 unusable input (missing file, not CSV/JSONL,
not UTF-8, malformed, a --columns name the file lacks).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.table import Table

from gateway.pii.detector import shared_detector
from gateway.pii.discovery import DEFAULT_BATCH, DiscoveryReport, DiscoverySourceError, discover

EXIT_UNUSABLE = 2

# Progress and errors on stderr; the report on stdout. Markup is off for anything taken
# from the file (column names), so a name is printed as it is.
errors = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def _columns(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names:
        errors.print("--columns names no column", markup=False)
        raise typer.Exit(EXIT_UNUSABLE)
    return names


def _table(report: DiscoveryReport) -> Table:
    table = Table(title=f"PII in {report.file}: {report.rows} rows", title_justify="left")
    table.add_column("column")
    table.add_column("values", justify="right")
    table.add_column("PII type")
    table.add_column("values with it", justify="right")
    table.add_column("share", justify="right")
    table.add_column("entities", justify="right")
    for name, column in report.columns.items():
        if not column.types:
            table.add_row(name, str(column.values), "-", "0", "", "0")
            continue
        ranked = sorted(column.types.items(), key=lambda item: (-item[1].values, item[0]))
        for index, (entity_type, count) in enumerate(ranked):
            share = f"{count.values / column.values:.0%}" if column.values else ""
            table.add_row(
                name if index == 0 else "",
                str(column.values) if index == 0 else "",
                entity_type,
                str(count.values),
                share,
                str(count.entities),
            )
    return table


def scan_command(
    file: Annotated[Path, typer.Argument(help="A .csv (with a header row), .jsonl or .ndjson")],
    columns: Annotated[
        str | None,
        typer.Option("--columns", help="Comma-separated columns to scan (default: all)."),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", help="zh or en (default: both)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of a table.")
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=10_000, help="Values per detection batch.")
    ] = DEFAULT_BATCH,
) -> None:
    """Report, per column, which PII types a data source holds and how often."""
    if language not in (None, "zh", "en"):
        errors.print("--language must be zh or en", markup=False)
        raise typer.Exit(EXIT_UNUSABLE)
    wanted = _columns(columns)
    total = file.stat().st_size if file.is_file() else None
    with Progress(
        TextColumn("scanning"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]} rows"),
        console=errors,
        transient=True,
        # A bar is for a terminal: piped, it would leave blank lines around the result.
        disable=not errors.is_terminal,
    ) as progress:
        task = progress.add_task("scanning", total=total, rows=0)
        try:
            report = discover(
                file,
                shared_detector(),
                columns=wanted,
                language=language,
                batch=batch,
                progress=lambda done, rows: progress.update(task, completed=done, rows=rows),
            )
        except DiscoverySourceError as exc:
            progress.stop()
            errors.print(f"cannot scan: {exc}", markup=False)
            raise typer.Exit(EXIT_UNUSABLE) from None
    if as_json:
        out.print_json(json.dumps(report.to_json(), ensure_ascii=False))
        return
    out.print(_table(report))
    rate = report.rows / report.seconds if report.seconds > 0 else 0.0
    out.print(f"{report.rows} rows in {report.seconds:.2f} s ({rate:,.0f} rows/s)", markup=False)
