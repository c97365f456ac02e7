"""`wardgate retention …`: enforce retention (PIPL Art. 19, 47) and manage legal holds.

Audit: every command leaves one entry for the operation (`retention.dry_run`,
`retention.run`, `retention.hold.set`, `retention.hold.release`; principal
`cli:<os user>`). A real run also leaves one `retention.erase` entry per batch it
erased, committed with that batch and sharing the run's request id, so the run's
entry (counts) and its batch entries (the erased customers) read together.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from gateway.cli.errors import ExitCode, OperatorError, exit_codes
from gateway.cli.files import open_private
from gateway.cli.options import DataDirOption, cli_settings
from gateway.cli.store import open_store
from gateway.compliance.cli_entries import cli_door, refuse
from gateway.compliance.entries import CLI_METHOD, CLI_STATUS
from gateway.db.opening import open_protector
from gateway.http.errors import GatewayError
from gateway.retention.holds import HOLD_REASONS, RELEASE_REASONS
from gateway.retention.run import DEFAULT_BATCH, RetentionReport, RunContext, count_candidates
from gateway.retention.service import change_hold, purposes_in_force, retention_run, summary_fields

retention_app = typer.Typer(
    help="Retention: erase customers whose every purpose has lapsed; legal holds.",
    no_args_is_help=True,
)
hold_app = typer.Typer(help="Legal holds: keep a customer whatever retention says.")
retention_app.add_typer(hold_app, name="hold")
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True, highlight=False)


def _instant(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        msg = f"--now must be an ISO 8601 time with a time zone, not {value!r}"
        raise OperatorError(msg) from None
    if at.tzinfo is None:
        msg = "--now must carry a time zone (e.g. 2030-01-01T00:00:00+00:00)"
        raise OperatorError(msg)
    return at


def _print(report: RetentionReport) -> None:
    table = Table(title="lapsed customers by purpose and reason")
    table.add_column("purpose")
    table.add_column("reason")
    table.add_column("customers", justify="right")
    for purpose, reasons in report.by_purpose.items():
        for reason, count in reasons.items():
            table.add_row(purpose, reason, str(count))
    out.print(table)
    verb = "would erase" if report.dry_run else "erased"
    done = report.lapsed if report.dry_run else report.erased
    out.print(
        f"at {report.now.isoformat()}: scanned {report.scanned}, lapsed {report.lapsed}, "
        f"kept under legal hold {report.held}, {verb} {done}"
        + ("" if report.dry_run else f" in {report.batches} audited batches"),
        markup=False,
    )


@retention_app.command(
    "run",
    epilog=exit_codes(
        unavailable="the database is unreachable or failed part-way (rerun: batches done stay done)"
    ),
)
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be erased; change nothing.")
    ] = False,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Apply the rule at this instant (ISO 8601; default: now)."),
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=10_000, help="Customers per transaction.")
    ] = DEFAULT_BATCH,
    ids_out: Annotated[
        Path | None,
        typer.Option(
            "--ids-out",
            metavar="FILE",
            help="Write the ids of the lapsed customers (erased, or with --dry-run to be "
            "erased; not those under a hold) here, one per line, mode 0600.",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Erase, by crypto-shredding, every customer whose every purpose has lapsed.

    A purpose lapses when its retention_days (policies/purposes.yaml) have passed since
    the customer's last activity (non-consent bases) or since their consent was
    withdrawn or expired (consent basis; never consented: at once). Customers under a
    legal hold are kept. See the README's "Retention" section.
    """
    settings = cli_settings(data_dir)
    at = _instant(now)

    async def main() -> RetentionReport:
        db = await open_store(settings)
        try:
            protector = await open_protector(settings, db)
            action = "retention.dry_run" if dry_run else "retention.run"
            async with cli_door(db, action) as audit:
                audit.entity = "customers"
                audit.purpose = "erasure"
                async with db.reader.connect() as conn:
                    total = await count_candidates(conn, await purposes_in_force(db), at)
                with Progress(
                    "[progress.description]{task.description}",
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    console=console,
                    transient=True,
                    disable=not console.is_terminal,
                ) as progress:
                    task = progress.add_task("scanning customers", total=total)
                    report = await retention_run(
                        db,
                        protector.keystore,
                        protector.catalog,
                        now=at,
                        dry_run=dry_run,
                        context=RunContext(
                            audit.principal_id or "cli", audit.request_id, CLI_METHOD
                        ),
                        batch_size=batch,
                        progress=lambda n: progress.advance(task, n),
                    )
                audit.fields = summary_fields(report)
            return report
        finally:
            await db.dispose()

    report = asyncio.run(main())
    _print(report)
    if ids_out is not None:
        with open_private(ids_out) as handle:
            handle.write("".join(f"{cid}\n" for cid in report.lapsed_ids).encode("ascii"))
        console.print(f"{len(report.lapsed_ids)} ids written to {ids_out}", markup=False)


def _hold_command(
    customer_id: str, reason: str, note: str | None, *, release: bool, data_dir: object
) -> None:
    settings = cli_settings(data_dir)  # type: ignore[arg-type]
    action = "retention.hold.release" if release else "retention.hold.set"

    async def main() -> None:
        db = await open_store(settings)
        try:
            async with cli_door(db, action) as audit:
                try:
                    hold = await change_hold(
                        db,
                        audit,
                        CLI_STATUS,
                        customer_id,
                        {"reason": reason, "note": note},
                        release=release,
                    )
                except GatewayError as exc:
                    refuse(audit, exc.reason)
                    fields = ", ".join(f"{p.field}: {p.reason}" for p in exc.errors)
                    msg = f"{exc.detail}" + (f" ({fields})" if fields else "")
                    code = ExitCode.UNUSABLE if exc.status in (404, 410, 422) else ExitCode.PROBLEMS
                    raise OperatorError(msg, code) from None
        finally:
            await db.dispose()
        what = "released" if release else "set"
        out.print(f"legal hold {hold.id} {what} on {customer_id}", markup=False)

    asyncio.run(main())


@hold_app.command(
    "set",
    epilog=exit_codes(
        "the customer is already under a legal hold",
        unusable="unknown or erased customer, unknown reason, missing note, or no store",
    ),
)
def hold_set(
    customer_id: Annotated[str, typer.Argument(help="The customer's id (cus_...).")],
    reason: Annotated[str, typer.Option("--reason", help=f"One of: {', '.join(HOLD_REASONS)}.")],
    note: Annotated[str, typer.Option("--note", help="Why, for the record (not audited).")],
    data_dir: DataDirOption = None,
) -> None:
    """Put a customer under a legal hold: retention and deletion keep them."""
    _hold_command(customer_id, reason, note, release=False, data_dir=data_dir)


@hold_app.command(
    "release",
    epilog=exit_codes(
        "the customer is not under a legal hold",
        unusable="unknown customer, unknown reason, or no store",
    ),
)
def hold_release(
    customer_id: Annotated[str, typer.Argument(help="The customer's id (cus_...).")],
    reason: Annotated[str, typer.Option("--reason", help=f"One of: {', '.join(RELEASE_REASONS)}.")],
    note: Annotated[str | None, typer.Option("--note", help="Optional note (not audited).")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Release a customer's legal hold: retention applies to them again."""
    _hold_command(customer_id, reason, note, release=True, data_dir=data_dir)
