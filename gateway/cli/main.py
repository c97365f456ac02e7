"""The `wardgate` command line."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
import socket
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from gateway.cli.audit import audit_app
from gateway.cli.consents import consents_app
from gateway.cli.dsr import dsr_app
from gateway.cli.errors import ExitCode, OperatorError, WardgateGroup, describe, exit_codes
from gateway.cli.imports import IMPORT_EPILOG, IMPORT_HELP, import_command
from gateway.cli.keys import keys_app
from gateway.cli.options import DataDirOption, cli_settings
from gateway.cli.policy import policy_app
from gateway.cli.retention import retention_app
from gateway.cli.scan import scan_command
from gateway.cli.store import open_store, where
from gateway.logging import configure_logging
from gateway.settings import Settings

app = typer.Typer(
    cls=WardgateGroup,
    help="Wardgate: the privacy and data-governance gateway for customer data.",
    epilog=exit_codes("the command ran and found problems (see each command)"),
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Store schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command("import", help=IMPORT_HELP, epilog=IMPORT_EPILOG)(import_command)
app.command(
    "scan",
    epilog=exit_codes(
        unusable="unusable input: a missing file, not CSV or JSON Lines, not UTF-8, malformed",
        unavailable="",
    ),
)(scan_command)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(consents_app, name="consents")
app.add_typer(dsr_app, name="dsr")
app.add_typer(policy_app, name="policy")
app.add_typer(retention_app, name="retention")
console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _configure() -> None:
    settings = cli_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json, to_stderr=True)


@app.command(
    epilog=exit_codes(
        unavailable="the database is unreachable; nothing is left behind by a failed init"
    )
)
def init(
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed demo principals and synthetic customers.")
    ] = False,
    customers: Annotated[
        int, typer.Option("--customers", min=0, help="Synthetic customers to create.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic data.")] = 20261122,
    data_dir: DataDirOption = None,
) -> None:
    """Create the store, master key and default policy; with --demo, demo principals and data.

    The only command that creates a store; run again, it keeps what exists.
    """
    from gateway.db.init_store import init_store

    settings = cli_settings(data_dir)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        # A bar is for a terminal: piped, it would leave blank lines around the result.
        disable=not console.is_terminal,
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
    console.print(f"store ready: {settings.sqlite_path if settings.is_sqlite else where(settings)}")
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


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def listening_sockets(host: str, port: int, workers: int) -> list[socket.socket]:
    """Bind before anything says it is listening: a busy port is one line, not a
    gateway that announces itself ready and then dies.

    Several workers get one socket each on the same port (SO_REUSEPORT), so the kernel
    spreads new connections over them evenly by their addresses. On one shared socket
    the worker that happens to be awake accepts every connection waiting, and a burst of
    keep-alive clients could all land on one worker (16 of 16 was measured) while the
    other idled. Where SO_REUSEPORT is missing, the workers share one socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        # Without SO_REUSEPORT first: this fails if anything listens on the port, even
        # another server that would let us join its SO_REUSEPORT group.
        first = socket.create_server((host, port), family=family)
        if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
            return [first]
        bound = first.getsockname()[:2]
        first.close()
        return [socket.create_server(bound, family=family, reuse_port=True) for _ in range(workers)]
    except OSError as exc:
        # A port in use may be free later (3); an address this host cannot bind, or a
        # port it may not, is the operator's to change (2).
        busy = exc.errno == errno.EADDRINUSE
        reason = "the port is in use" if busy else exc.strerror or type(exc).__name__
        msg = f"cannot start: cannot listen on {host}:{port}: {reason}"
        raise OperatorError(msg, ExitCode.UNAVAILABLE if busy else ExitCode.UNUSABLE) from None


@app.command(epilog=exit_codes(unavailable="the database is unreachable or the port is in use"))
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes sharing the port and the store "
            "[default: WARDGATE_WORKERS, else one per CPU].",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the gateway over HTTP."""
    settings = cli_settings(data_dir, host=host, port=port, workers=workers)
    with contextlib.ExitStack() as metrics_dir:
        if settings.worker_count > 1 and settings.metrics_enabled:
            from gateway.http.workers import shared_metrics_dir

            # Before the app (and prometheus-client) is imported: the workers' counters
            # then live in one directory and /metrics reports their sum.
            metrics_dir.enter_context(shared_metrics_dir())
        _serve(settings)


def _serve(settings: Settings) -> None:
    # Start-up allocates millions of objects that live as long as the process (modules,
    # jieba's dictionary): the collector would walk them all several times over for
    # nothing. One collection before freezing them (below) is enough.
    with _collector_paused():
        import uvicorn

        from gateway.app import create_app
        from gateway.db.opening import require_writable_data_dir
        from gateway.http.transport import uvicorn_limits
        from gateway.http.workers import serve_in_workers
        from gateway.state import PlanWarmUp, open_gateway

        async def preflight() -> None:
            # A read-only data directory is named as such, not as a store that cannot open.
            require_writable_data_dir(settings)
            await (await open_store(settings, current=False)).dispose()
            # The app's lifespan opens it again (reusing the detector and the policy engine)
            # and compiles the plans then.
            state = await open_gateway(settings, warm=PlanWarmUp.NONE)
            state.scanner.close()
            await state.db.dispose()

        try:
            asyncio.run(preflight())
        except Exception as exc:
            described = describe(exc)
            if described is None:
                raise
            code, message = described
            raise OperatorError(f"cannot start: {message}", code) from None
    count = settings.worker_count
    listening = listening_sockets(settings.host, settings.port, count)
    if settings.bench_bare_endpoint:
        console.print("[bold red]WARNING: /bench/bare serves UNGOVERNED data (benchmark mode)[/]")
    each = f" ({count} workers)" if count > 1 else ""
    console.print(f"wardgate listening on http://{settings.host}:{settings.port}{each}")
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        **uvicorn_limits(settings),
    )

    def run_server(sockets: list[socket.socket]) -> int:
        server = uvicorn.Server(config)
        server.run(sockets=sockets)
        return int(ExitCode.OK if server.started else ExitCode.UNAVAILABLE)

    # The checks above built the PII detector (jieba's dictionary, the recognizers):
    # hundreds of thousands of objects that live as long as the process. Left in the
    # collector's generations, every full collection walks all of them, on whatever
    # request allocated last; frozen, it never does (and forked workers keep sharing
    # their pages instead of writing GC headers into them).
    gc.collect()
    gc.freeze()
    # One worker serves in this process, as it always did; several are forked after the
    # checks above, so each starts with the detector and the app already imported.
    served = run_server(listening) if count == 1 else serve_in_workers(run_server, listening, count)
    if served != ExitCode.OK:
        raise typer.Exit(served)


@db_app.command(
    "upgrade",
    epilog=exit_codes(unavailable="the database is unreachable"),
)
def db_upgrade(data_dir: DataDirOption = None) -> None:
    """Migrate an existing store's and key store's schemas to the current version.

    Creates no store: `wardgate init` does.
    """
    from gateway.db.migrate import Schema, upgrade_to_head
    from keys import KeyStore, LocalKeyProvider, MasterKeyError, suite_named

    settings = cli_settings(data_dir)

    async def run() -> None:
        db = await open_store(settings, current=False)
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


def main() -> None:
    """The `wardgate` script. Everything a command writes is for its owner only,
    whatever the shell's umask: the store, key and export files are created 0600 where
    they are opened (so also under a server started another way), and the umask covers
    the rest (policy files written by `policy export`, temporary files)."""
    os.umask(os.umask(0o077) | 0o077)
    app()


if __name__ == "__main__":
    main()
