"""`wardgate consents import FILE`: bulk-load consent records collected elsewhere.

Exit status, as for `wardgate import`: 0 everything loaded, 1 some lines were rejected
(the others loaded, or with --all-or-nothing none), 2 unusable input or store (nothing
loaded), 3 the store failed mid-way (batches committed before the failure stay; the
report says how many lines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.bulk.job import DEFAULT_BATCH
from gateway.bulk.report import ImportAbortedError, ImportSourceError
from gateway.cli.errors import exit_codes
from gateway.cli.import_report import print_import_report
from gateway.cli.imports import run_import
from gateway.cli.options import DataDirOption, cli_settings
from gateway.cli.store import require_store
from gateway.consents.importer import ConsentImportReport, import_consents
from gateway.db.opening import StoreNotReadyError
from gateway.policy.store import NoPolicyError
from keys import MasterKeyError

consents_app = typer.Typer(help="PIPL consent records.", no_args_is_help=True)


def _summary(report: ConsentImportReport) -> None:
    read = f"consents ({report.grants} grants, {report.withdrawals} withdrawals)"
    print_import_report(report, read, "consents")


@consents_app.command(
    "import",
    epilog=exit_codes(
        "some lines were rejected: the others loaded, or with --all-or-nothing none",
        unavailable="the database is unreachable, or failed part-way (see the report)",
    ),
)
def import_consents_command(
    file: Annotated[Path, typer.Argument(help="consents.csv, .jsonl or .ndjson")],
    data_dir: DataDirOption = None,
    all_or_nothing: Annotated[
        bool,
        typer.Option(
            "--all-or-nothing",
            help="Validate the whole file first; load nothing if any line fails.",
        ),
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=10_000, help="Consents per transaction.")
    ] = DEFAULT_BATCH,
) -> None:
    """Validate and append consent grants and withdrawals from a CSV or JSON Lines file.

    Required: customer_id, purpose, at, channel, and notice_version for a grant.

    Optional: kind (grant or withdraw), evidence, expires_at, separate, guardian.
    """
    settings = cli_settings(data_dir)
    require_store(settings)
    run_import(
        file,
        "consents",
        lambda advance: import_consents(
            settings, file, all_or_nothing=all_or_nothing, batch_size=batch, progress=advance
        ),
        _summary,
        aborted=ImportAbortedError,
        unusable=(ImportSourceError, MasterKeyError, StoreNotReadyError, NoPolicyError),
    )
