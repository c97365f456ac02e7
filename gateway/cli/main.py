"""The `wardgate` command line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from gateway.cli.audit import audit_app
from gateway.cli.consents import consents_app
from gateway.cli.imports import import_command
from gateway.cli.keys import keys_app
from gateway.cli.policy import policy_app
from gateway.cli.scan import scan_command
from gateway.logging import configure_logging
from gateway.settings import Settings, get_settings
from keys import MasterKeyError

app = typer.Typer(
    help="Wardgate: the privacy and data-governance gateway for customer data.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Store schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command("import")(import_command)
app.command("scan")(scan_command)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(consents_app, name="consents")
app.add_typer(policy_app, name="policy")
console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Data directory (default: $WARDGATE_DATA_DIR or ./wardgate-data)."
    ),
]


@app.callback()
def _configure() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json, to_stderr=True)


def _settings(data_dir: Path | None, **overrides: object) -> Settings:
    return get_settings().with_overrides(data_dir=data_dir, **overrides)


@app.command()
def init(
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed demo principals and synthetic customers.")
    ] = False,
    customers: Annotated[
        int, typer.Option("--customers", min=0, help="Synthetic customers to create.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic data.")] = 20261122,
    data_dir: DataDir = None,
) -> None:
    """Create the store, master key and default policy; with --demo, demo principals and data."""
    from gateway.db.init_store import init_store

    settings = _settings(data_dir)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("seeding customers", total=customers if demo else 0)
        report = asyncio.run(
            init_store(
                settings,
                demo=demo,
                customers=customers,
                seed=seed,
                progress=lambda n: progress.advance(task, n),
            )
        )
    where = (settings.database_url and "PostgreSQL") or str(settings.sqlite_path)
    console.print(f"store ready: {where}")
    if report.policy_version_created:
        console.print("default policy installed as version 1")
    if demo:
        console.print(
            f"demo data: {report.customers_created} customers, "
            f"{report.interactions_created} interactions, {report.orders_created} orders created"
        )
        if report.principals_created:
            console.print(f"demo API keys written to {report.demo_keys_path} (mode 0600)")
        else:
            console.print("demo principals already exist; their keys were not changed")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Serve the gateway over HTTP."""
    import uvicorn

    from gateway.app import create_app
    from gateway.http.transport import uvicorn_limits
    from gateway.policy.store import NoPolicyError
    from gateway.state import StoreNotReadyError, open_gateway

    settings = _settings(data_dir, host=host, port=port)

    async def preflight() -> None:
        state = await open_gateway(settings)
        await state.db.dispose()

    try:
        asyncio.run(preflight())
    except (MasterKeyError, StoreNotReadyError, NoPolicyError) as exc:
        console.print(f"[red]cannot start:[/red] {exc}")
        raise typer.Exit(2) from None
    if settings.bench_bare_endpoint:
        console.print("[bold red]WARNING: /bench/bare serves UNGOVERNED data (benchmark mode)[/]")
    console.print(f"wardgate listening on http://{settings.host}:{settings.port}")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        **uvicorn_limits(settings),
    )


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Migrate the customer store and key store schemas to the current version."""
    from gateway.db.engine import create_database
    from gateway.db.migrate import Schema, upgrade_to_head
    from keys import KeyStore, LocalKeyProvider, suite_named

    settings = _settings(data_dir)

    async def run() -> None:
        db = create_database(settings)
        try:
            await upgrade_to_head(db.writer)
            await upgrade_to_head(db.keys, Schema.KEYSTORE)
            provider = LocalKeyProvider(settings.data_dir)
            try:
                keyring = provider.load()
            except MasterKeyError:
                return  # no keys yet: `wardgate init` creates them
            keystore = KeyStore(db.keys, provider, keyring)
            # A new release may bring a new system key (e.g. the audit signer).
            await keystore.ensure_system_keys(suite_named(settings.crypto_suite))
        finally:
            await db.dispose()

    asyncio.run(run())
    console.print("store schema is current")


if __name__ == "__main__":
    app()
