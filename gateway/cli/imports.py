"""`wardgate import FILE`: bulk-load customers from CSV or JSON Lines.

Exit status: 0 everything loaded, 1 some rows were rejected (the others loaded),
2 unusable input or store (nothing loaded), 3 the store failed mid-way (batches
committed before the failure stay; the report says how many rows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn

from gateway.bulk.job import DEFAULT_BATCH
from gateway.bulk.report import ImportAbortedError, ImportProgress, ImportSourceError
from gateway.customers.importer import CustomerImportReport, import_customers
from gateway.settings import get_settings
from gateway.state import StoreNotReadyError
from keys import MasterKeyError

PROBLEMS_SHOWN = 50
EXIT_REJECTED = 1
EXIT_UNUSABLE = 2
EXIT_ABORTED = 3

# Progress and errors on stderr; the summary and problems (the command's result) on stdout.
# Nothing printed here comes from the file's values, and markup is off so a field label
# is printed as it is.
errors = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def _summary(report: CustomerImportReport) -> None:
    rate = f"{report.customers_per_second:,.0f} customers/s"
    out.print(
        f"loaded {report.loaded} of {report.rows_read} rows, rejected {report.rejected} "
        f"in {report.seconds:.2f} s ({rate})",
        markup=False,
    )
    if report.loaded:
        out.print(f"audit request id: {report.request_id}", markup=False)
    for problem in report.problems[:PROBLEMS_SHOWN]:
        out.print(str(problem), markup=False)
    hidden = report.problems_total - min(len(report.problems), PROBLEMS_SHOWN)
    if hidden > 0:
        out.print(f"... and {hidden} more problems", markup=False)


def import_command(
    file: Annotated[Path, typer.Argument(help="customers.csv, .jsonl or .ndjson")],
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Data directory (default: $WARDGATE_DATA_DIR or ./wardgate-data)."
        ),
    ] = None,
    all_or_nothing: Annotated[
        bool,
        typer.Option(
            "--all-or-nothing", help="Validate the whole file first; load nothing if any row fails."
        ),
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=10_000, help="Rows per transaction.")
    ] = DEFAULT_BATCH,
) -> None:
    """Validate, encrypt and load customers from a CSV or JSON Lines file."""
    settings = get_settings().with_overrides(data_dir=data_dir)
    run_import(
        file,
        "rows",
        lambda advance: import_customers(
            settings, file, all_or_nothing=all_or_nothing, batch_size=batch, progress=advance
        ),
        _summary,
        aborted=ImportAbortedError,
        unusable=(ImportSourceError, MasterKeyError, StoreNotReadyError),
    )


class _Report(Protocol):
    @property
    def refused(self) -> bool: ...

    @property
    def rejected(self) -> int: ...


R = TypeVar("R", bound=_Report)


def run_import(
    file: Path,
    unit: str,
    run: Callable[[Callable[[ImportProgress], None]], Coroutine[Any, Any, R]],
    summary: Callable[[R], None],
    *,
    aborted: type[Exception],
    unusable: tuple[type[Exception], ...],
) -> None:
    """Run an import with a progress bar and map its outcome to the exit status."""
    total = file.stat().st_size if file.is_file() else None
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn(f"{{task.fields[rows]}} {unit}"),
        console=errors,
        transient=True,
    ) as progress:
        task: TaskID = progress.add_task("validating", total=total, rows=0)

        def advance(step: ImportProgress) -> None:
            progress.update(
                task, description=step.phase, completed=step.bytes_read, rows=step.rows_read
            )

        try:
            report = asyncio.run(run(advance))
        except unusable as exc:
            progress.stop()
            errors.print(f"cannot import: {exc}", markup=False)
            raise typer.Exit(EXIT_UNUSABLE) from None
        except aborted as exc:
            progress.stop()
            errors.print(f"import aborted: {exc}", markup=False)
            summary(exc.report)  # type: ignore[attr-defined]
            raise typer.Exit(EXIT_ABORTED) from None
    summary(report)
    if report.refused:
        errors.print(
            f"nothing loaded: --all-or-nothing and {report.rejected} {unit} have problems",
            markup=False,
        )
        raise typer.Exit(EXIT_UNUSABLE)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)
