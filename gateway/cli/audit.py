"""`wardgate audit …`: verify (against the store, or offline), checkpoint, verifier key, export."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from audit import Outcome
from audit.checkpoint import CheckpointError, open_signed_checkpoint
from audit.verify import LogVerifier, VerifyReport
from gateway.cli.errors import ExitCode, OperatorError, exit_codes
from gateway.cli.files import open_private
from gateway.cli.options import DataDirOption, cli_settings
from gateway.cli.store import open_store
from gateway.compliance import log_reader
from gateway.compliance.checkpoints import CheckpointIssuer, log_signer
from gateway.compliance.cli_entries import cli_door, refuse
from gateway.compliance.entries import CLI_STATUS, append_in_transaction
from gateway.compliance.export import ExportFormat, export_lines
from gateway.db.engine import Database
from gateway.db.opening import open_keystore
from gateway.settings import Settings
from keys.signing import InvalidVerifierKey, NoteSigner, NoteVerifier

audit_app = typer.Typer(help="Audit log: verification, checkpoints, export.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


async def _open(settings: Settings) -> tuple[Database, NoteSigner]:
    db = await open_store(settings)
    try:
        _, system_keys = await open_keystore(settings, db)
    except BaseException:
        await db.dispose()
        raise
    return db, log_signer(system_keys.audit_signing)


def _print_report(report: VerifyReport, seconds: float) -> None:
    rate = report.entries / seconds if seconds > 0 else 0.0
    if report.ok:
        console.print(
            f"[green]audit log verified[/green]: {report.entries} entries, "
            f"{report.checkpoints_verified} signed checkpoints matched, root {report.root_hash} "
            f"({rate:,.0f} entries/s)"
        )
    else:
        console.print(
            f"[red]audit log FAILED verification[/red]: {report.problem}; "
            f"first bad sequence number: {report.first_bad_seq}"
        )


def _unusable(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"{exc.filename or 'a file'}: {exc.strerror or type(exc).__name__}"
    if isinstance(exc, UnicodeDecodeError):
        return "a file is not UTF-8 text"
    return str(exc)


def _verify_offline(export: Path, checkpoint: Path, public_key: str) -> VerifyReport:
    key_text = Path(public_key).read_text().strip() if Path(public_key).is_file() else public_key
    verifier = NoteVerifier.from_vkey(key_text)
    signed = open_signed_checkpoint(checkpoint.read_text(encoding="utf-8"), verifier)
    log = LogVerifier([signed])
    with export.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = orjson.loads(line)
                seq, entry, leaf = (
                    int(record["seq"]),
                    str(record["entry"]),
                    str(record["leaf_hash"]),
                )
                inner_seq = orjson.loads(entry)["seq"]
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                console.print(f"[red]line {number} of the export is malformed[/red]")
                raise typer.Exit(ExitCode.PROBLEMS) from None
            if inner_seq != seq:
                console.print(f"[red]line {number}: entry claims sequence number {inner_seq}[/red]")
                raise typer.Exit(ExitCode.PROBLEMS)
            if not log.feed(seq, entry.encode("utf-8"), leaf):
                break
    return log.finish()


@audit_app.command(
    "verify", epilog=exit_codes("verification failed (a log or an export that does not verify)")
)
def verify(
    data_dir: DataDirOption = None,
    offline: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--offline", help="EXPORT CHECKPOINT: verify an export; no database needed."),
    ] = None,
    public_key: Annotated[
        str | None, typer.Option("--public-key", help="Verifier key (vkey string or file).")
    ] = None,
) -> None:
    """Recompute every leaf and the tree, and check the signed checkpoints. Exit 1 on failure."""
    if offline is not None:
        if public_key is None:
            raise OperatorError("--offline needs --public-key")
        try:
            report = _verify_offline(offline[0], offline[1], public_key)
        except (InvalidVerifierKey, OSError, UnicodeDecodeError) as exc:
            raise OperatorError(f"cannot verify: {_unusable(exc)}") from None
        except CheckpointError as exc:
            console.print(f"[red]cannot verify:[/red] {exc}")
            raise typer.Exit(ExitCode.PROBLEMS) from None
        _print_report(report, 0.0)
        raise typer.Exit(ExitCode.OK if report.ok else ExitCode.PROBLEMS)

    async def run() -> tuple[VerifyReport, float]:
        db, signer = await _open(cli_settings(data_dir))
        try:
            async with cli_door(db, "audit.verify") as audit:
                report, seconds = await log_reader.verify_store(db, signer.verifier())
                if not report.ok:
                    refuse(audit, "verification_failed", Outcome.FAILED)
            return report, seconds
        finally:
            await db.dispose()

    report, seconds = asyncio.run(run())
    _print_report(report, seconds)
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.PROBLEMS)


@audit_app.command("verifier-key", epilog=exit_codes())
def verifier_key(data_dir: DataDirOption = None) -> None:
    """Print the verifier key (C2SP vkey) that checks this log's checkpoints."""

    async def run() -> str:
        db, signer = await _open(cli_settings(data_dir))
        await db.dispose()
        return signer.verifier_key

    typer.echo(asyncio.run(run()))


@audit_app.command("checkpoint", epilog=exit_codes())
def checkpoint(data_dir: DataDirOption = None) -> None:
    """Sign a checkpoint of the log as it stands and print it (a C2SP signed note)."""

    async def run() -> str:
        db, signer = await _open(cli_settings(data_dir))
        try:
            async with cli_door(db, "audit.checkpoint") as audit:
                # The entry commits with the checkpoint, which therefore covers it.
                issued = await CheckpointIssuer(db.writer, signer).issue(
                    lambda conn: append_in_transaction(conn, audit, CLI_STATUS)
                )
            return issued.note
        finally:
            await db.dispose()

    sys.stdout.write(asyncio.run(run()))


@audit_app.command("export", epilog=exit_codes())
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write, created 0600.")],
    data_dir: DataDirOption = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="jsonl: each entry exactly as hashed, for `audit verify --offline`; "
            "csv: one column per entry field, UTF-8 with BOM, for spreadsheets.",
        ),
    ] = ExportFormat.JSONL,
) -> None:
    """Write the whole log: JSON Lines (seq, the entry as hashed, its leaf hash) or CSV."""

    async def run() -> int:
        db, _ = await _open(cli_settings(data_dir))
        count = 0
        try:
            async with cli_door(db, "audit.export"):
                # The output is opened before the entry is written, and the entry is
                # committed before the snapshot is taken: the export holds its own entry.
                handle = open_private(output)
            with handle:
                async with log_reader.snapshot(db) as conn:
                    async for line in export_lines(conn, fmt):
                        handle.write(line)
                        count += 1
        finally:
            await db.dispose()
        return count - (1 if fmt is ExportFormat.CSV else 0)

    console.print(f"{asyncio.run(run())} entries written to {output}")
