"""`wardgate import FILE`: bulk-load customers from CSV or JSON Lines.

Exit status: 0 everything loaded, 1 some rows were rejected (the others loaded, or,
with --all-or-nothing, none), 2 unusable input or store (nothing loaded), 3 the store
failed mid-way (batches committed before the failure stay; the report says how many
rows). The columns `--help` lists come from the data catalog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn

from gateway.bulk.job import DEFAULT_BATCH
from gateway.bulk.report import ImportAbortedError, ImportProgress, ImportSourceError
from gateway.cli.errors import ExitCode, exit_codes
from gateway.cli.files import open_private
from gateway.cli.import_report import out, print_import_report
from gateway.cli.options import DataDirOption, cli_settings
from gateway.cli.store import require_store
from gateway.db.opening import StoreNotReadyError
from keys import MasterKeyError
from policies.catalog import Entity, default_catalog

if TYPE_CHECKING:
    from gateway.customers.importer import CustomerImportReport

EXIT_REJECTED = ExitCode.PROBLEMS
EXIT_UNUSABLE = ExitCode.UNUSABLE
EXIT_ABORTED = ExitCode.UNAVAILABLE

# Progress and errors on stderr; the summary and problems (the command's result) on stdout
# (see import_report). Nothing printed here comes from the file's values, and markup is off
# so a field label is printed as it is.
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _write_ids(ids: tuple[str, ...], ids_out: Path | None) -> None:
    """The created ids: one per line, to stdout or to a private file."""
    text = "".join(f"{record_id}\n" for record_id in ids)
    if ids_out is None:
        out.file.write(text)
        return
    with open_private(ids_out) as handle:
        handle.write(text.encode("ascii"))
    errors.print(f"{len(ids)} created ids written to {ids_out}", markup=False)


def columns_help(entity: Entity) -> str:
    """The columns an import file may have, from the data catalog: one paragraph each."""
    categories = default_catalog().categories
    lines = []
    for spec in entity.fields:
        if not spec.writable:
            continue
        what = categories[spec.category].description if spec.category in categories else ""
        flags = ", ".join(
            flag
            for flag, on in (
                ("required", spec.required),
                ("sensitive", spec.sensitivity.value == "sensitive"),
                ("encrypted", spec.encrypted),
            )
            if on
        )
        lines.append(f"{spec.name}: {what} (format {spec.format}{', ' + flags if flags else ''})")
    return "\n\n".join(lines)


IMPORT_HELP = (
    "Validate, encrypt and load customers from a CSV or JSON Lines file.\n\n"
    "A CSV file starts with a header row naming its columns (any order, UTF-8); a JSON "
    "Lines file holds one object per line with the same names as keys. An empty cell, or "
    "a missing key, leaves the field empty; ids are assigned by the gateway. Columns:\n\n"
    + columns_help(default_catalog().entity("customers"))
    + "\n\nThe ids created are printed to stdout, one per line in file order, after the "
    "summary; with --ids-out they go to that file instead (mode 0600)."
)
IMPORT_EPILOG = exit_codes(
    "some rows were rejected: the others loaded, or with --all-or-nothing none",
    unavailable="the database is unreachable, or failed part-way (see the report)",
)


def import_command(
    file: Annotated[Path, typer.Argument(help="customers.csv, .jsonl or .ndjson")],
    data_dir: DataDirOption = None,
    all_or_nothing: Annotated[
        bool,
        typer.Option(
            "--all-or-nothing", help="Validate the whole file first; load nothing if any row fails."
        ),
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=10_000, help="Rows per transaction.")
    ] = DEFAULT_BATCH,
    ids_out: Annotated[
        Path | None,
        typer.Option(
            "--ids-out",
            metavar="FILE",
            help="Write the created ids here (one per line, mode 0600) instead of stdout.",
        ),
    ] = None,
) -> None:
    settings = cli_settings(data_dir)
    require_store(settings)
    # Imported here: the importer needs the PII detector (jieba, recognizers), a second to load
    # that every other command (and `--help`) would pay for.
    from gateway.customers.importer import import_customers

    def summary(report: CustomerImportReport) -> None:
        print_import_report(report, "rows", "customers")
        _write_ids(report.created_ids, ids_out)

    run_import(
        file,
        "rows",
        lambda advance: import_customers(
            settings, file, all_or_nothing=all_or_nothing, batch_size=batch, progress=advance
        ),
        summary,
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
        # A bar is for a terminal: piped, it would leave blank lines around the result.
        disable=not errors.is_terminal,
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
        raise typer.Exit(EXIT_REJECTED)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)
