"""`wardgate keys …`: status, KEK rotation and retirement, data-key rotation, purge, and
API keys of principals (issue, revoke).

The operator issues API keys here for any principal the current policy names. The
policy API issues them only for principals that reach no customer data and no audit
log (separation of duties, `gateway.access.api_keys`); the operator on the host holds
the master key and the database anyway, so this door opens nothing new.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from gateway.access.authentication import IssuedApiKey, issue_api_key
from gateway.cli.errors import ExitCode, OperatorError, exit_codes
from gateway.cli.options import DataDirOption, cli_settings
from gateway.cli.store import open_store
from gateway.compliance.cli_entries import cli_door, refuse
from gateway.compliance.entries import CLI_STATUS, append_in_transaction
from gateway.db.engine import Database
from gateway.db.opening import open_protector
from gateway.encryption.key_ops import ciphertexts_by_version, purge_retired_keys, rotate_data_keys
from gateway.encryption.protection import Protector
from gateway.policy.errors import ApiKeyRevoked, PolicyTargetNotFound
from gateway.settings import Settings
from keys import LocalKeyProvider, kek_versions_in_use

keys_app = typer.Typer(help="Master key, data key and API key operations.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _run(settings: Settings, work: Callable[[Database, Protector], Awaitable[T]]) -> T:
    """Run `work` on the existing store with its keys open (errors: `gateway.cli.errors`)."""

    async def main() -> T:
        db = await open_store(settings)
        try:
            return await work(db, await open_protector(settings, db))
        finally:
            await db.dispose()

    return asyncio.run(main())


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        # A bar is for a terminal: piped, it would leave blank lines around the result.
        disable=not console.is_terminal,
    )


@keys_app.command("status", epilog=exit_codes())
def status(data_dir: DataDirOption = None) -> None:
    """Keys per master key version and stored values per data key version."""
    settings = cli_settings(data_dir)

    async def work(db: Database, protector: Protector) -> None:
        ring = LocalKeyProvider(settings.data_dir).load()
        async with cli_door(db, "keys.status"):
            key_status = await protector.keystore.status()
            by_version = await ciphertexts_by_version(db, protector)
        table = Table(title=f"Wardgate keys (suite {key_status.suite})")
        table.add_column("what")
        table.add_column("version", justify="right")
        table.add_column("count", justify="right")
        for version in ring.versions:
            state = "active" if version == ring.active_version else "in ring"
            table.add_row(f"master key ({state})", str(version), "")
        for version, count in sorted(key_status.data_keys_by_kek_version.items()):
            table.add_row("data keys wrapped by master key", str(version), str(count))
        for version, count in sorted(key_status.system_keys_by_kek_version.items()):
            table.add_row("system keys wrapped by master key", str(version), str(count))
        for version, count in sorted(key_status.data_keys_by_version.items()):
            table.add_row("current data keys", str(version), str(count))
        table.add_row("retired data keys (awaiting purge)", "", str(key_status.retired_data_keys))
        for version, count in sorted(by_version.items()):
            label = "stored values encrypted by data key"
            table.add_row(
                label if version >= 0 else "unreadable stored values", str(version), str(count)
            )
        Console().print(table)
        unused = set(ring.versions) - kek_versions_in_use(key_status) - {ring.active_version}
        if unused:
            console.print(f"master key versions no longer used: {sorted(unused)} (retire-kek)")

    _run(settings, work)


@keys_app.command("rotate-kek", epilog=exit_codes())
def rotate_kek(data_dir: DataDirOption = None) -> None:
    """Add a new master key version and re-wrap every key under it (data untouched)."""
    settings = cli_settings(data_dir)
    provider = LocalKeyProvider(settings.data_dir)

    async def work(db: Database, protector: Protector) -> None:
        async with cli_door(db, "keys.rotate_kek") as audit:
            ring = provider.load().with_new_version()
            provider.save(ring)
            total = sum((await protector.keystore.status()).data_keys_by_kek_version.values())
            with _progress() as bar:
                task = bar.add_task("re-wrapping data keys", total=total)
                count = await protector.keystore.rewrap_all(
                    ring, progress=lambda n: bar.advance(task, n)
                )
            audit.fields = {"data_keys": f"rewrapped:{count}"}
        console.print(
            f"master key version {ring.active_version} active; {count} data keys re-wrapped. "
            "Retire older versions with `wardgate keys retire-kek --version N`."
        )

    _run(settings, work)


@keys_app.command("retire-kek", epilog=exit_codes("the version still wraps keys and was kept"))
def retire_kek(
    version: Annotated[int, typer.Option("--version", help="Master key version to remove.")],
    data_dir: DataDirOption = None,
) -> None:
    """Remove a master key version from the ring, only if no key is wrapped under it."""
    settings = cli_settings(data_dir)
    provider = LocalKeyProvider(settings.data_dir)

    async def work(db: Database, protector: Protector) -> None:
        async with cli_door(db, "keys.retire_kek") as audit:
            in_use = kek_versions_in_use(await protector.keystore.status())
            if version in in_use:
                refuse(audit, "master_key_in_use")
                audit.fields = {"master_key": f"kept:{version}"}
                console.print(f"[red]master key version {version} still wraps keys; not retired[/]")
                raise typer.Exit(ExitCode.PROBLEMS)
            ring = provider.load()
            provider.save(ring.without_version(version))
            audit.fields = {"master_key": f"retired:{version}"}
        console.print(f"master key version {version} retired")

    _run(settings, work)


@keys_app.command("rotate-dek", epilog=exit_codes())
def rotate_dek(
    batch: Annotated[int, typer.Option(min=1, help="Customers per transaction.")] = 200,
    data_dir: DataDirOption = None,
) -> None:
    """Give every customer a new data key and re-encrypt their fields, in resumable batches."""
    settings = cli_settings(data_dir)

    async def work(db: Database, protector: Protector) -> None:
        async with cli_door(db, "keys.rotate_dek") as audit:
            total = sum((await protector.keystore.status()).data_keys_by_version.values())
            with _progress() as bar:
                task = bar.add_task("re-encrypting", total=total)
                report = await rotate_data_keys(
                    db, protector, batch=batch, progress=lambda n: bar.advance(task, n)
                )
            audit.fields = {"data_keys": f"rotated:{report.customers_rotated}"}
        rate = report.customers_rotated / report.seconds if report.seconds else 0.0
        console.print(
            f"data key version {report.target_version}: {report.customers_rotated} customers, "
            f"{report.fields_reencrypted} values re-encrypted in {report.seconds:.1f} s "
            f"({rate:,.0f} customers/s); {report.undecryptable_fields} unreadable values left "
            "as they were. Purge the retired keys with `wardgate keys purge`."
        )

    _run(settings, work)


@keys_app.command("purge", epilog=exit_codes())
def purge(
    grace: Annotated[
        float, typer.Option(help="Seconds a retired key is kept for reads in flight.")
    ] = 10.0,
    data_dir: DataDirOption = None,
) -> None:
    """Delete retired data keys, first re-encrypting anything that still uses one."""
    settings = cli_settings(data_dir)

    async def work(db: Database, protector: Protector) -> None:
        async with cli_door(db, "keys.purge") as audit:
            purged, healed = await purge_retired_keys(
                db, protector, grace=dt.timedelta(seconds=grace)
            )
            audit.fields = {"data_keys": f"purged:{purged}"}
        console.print(f"{purged} retired data keys purged; {healed} values re-encrypted first")
        waiting, after = await protector.keystore.retired_in_grace(dt.timedelta(seconds=grace))
        if waiting and after is not None:
            console.print(_still_in_grace(waiting, grace, after))

    _run(settings, work)


def _still_in_grace(waiting: int, grace: float, after: dt.datetime) -> str:
    wait = max((after - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)
    return (
        f"{waiting} retired data keys are still inside the {grace:g} s grace period; "
        f"the first can be purged after {after.isoformat(timespec='seconds')} "
        f"(in {wait:,.0f} s): run `wardgate keys purge` again then"
    )


# --- API keys of principals ------------------------------------------------------------


@keys_app.command("issue", epilog=exit_codes())
def issue(
    principal: Annotated[str, typer.Argument(help="Principal id, as the policy names it.")],
    data_dir: DataDirOption = None,
) -> None:
    """Issue an API key for any principal of the current policy.

    Only the key goes to stdout, this once; exit 2 for an unknown principal.
    """
    # Imported here: the policy-change service needs the store, audit and masking, which the key
    # commands (and `--help`) would otherwise load for nothing.
    from gateway.access.api_keys import newest_policy_naming

    settings = cli_settings(data_dir)

    async def work(db: Database, _protector: Protector) -> IssuedApiKey:
        async with cli_door(db, "keys.issue") as audit:
            try:
                async with db.writer.begin() as conn:
                    version, _ = await newest_policy_naming(conn, principal)
                    # Notifies every gateway process: the key works there once this commits.
                    issued = await issue_api_key(conn, principal)
                    # The entry names the principal and the key's id, never the key.
                    audit.fields = {f"api_key:{issued.key_id}": "issued", "principal": principal}
                    audit.policy_version = version
                    await append_in_transaction(conn, audit, CLI_STATUS)
            except PolicyTargetNotFound as exc:
                # The name typed is not recorded: it names no principal of the policy.
                refuse(audit, "unknown_principal")
                raise OperatorError(f"error: {exc}") from None
        return issued

    issued = _run(settings, work)
    typer.echo(issued.key)
    console.print(
        f"API key {issued.key_id} issued for {escape(principal)!r}; it is shown only this once."
    )


@keys_app.command("revoke", epilog=exit_codes("the key was revoked before"))
def revoke(
    key_id: Annotated[str, typer.Argument(help="Key id, as `GET /v1/policy/principals` lists it.")],
    data_dir: DataDirOption = None,
) -> None:
    """Revoke an API key at once, on every gateway process.

    Exit 2 for an unknown key id, 1 for a key revoked before.
    """
    from gateway.access.api_keys import revoke_api_key_in  # see `issue`

    settings = cli_settings(data_dir)

    async def work(db: Database, _protector: Protector) -> str:
        async with cli_door(db, "keys.revoke") as audit:
            try:
                async with db.writer.begin() as conn:
                    info = await revoke_api_key_in(conn, key_id)
                    audit.fields = {f"api_key:{key_id}": "revoked", "principal": info.principal_id}
                    await append_in_transaction(conn, audit, CLI_STATUS)
            except PolicyTargetNotFound as exc:
                refuse(audit, "unknown_api_key")  # the id typed is not recorded
                raise OperatorError(f"error: {exc}") from None
            except ApiKeyRevoked as exc:
                refuse(audit, "already_revoked")
                audit.fields = {f"api_key:{key_id}": "revoked_before"}
                raise OperatorError(f"error: {exc}", ExitCode.PROBLEMS) from None
        return info.principal_id

    owner = _run(settings, work)
    console.print(f"API key {escape(key_id)} of {escape(owner)!r} revoked")
