"""Running the `wardgate` CLI in-process against a test store, as an operator would."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.db.init_store import init_store
from gateway.settings import Settings, get_settings


def wardgate(settings: Settings, *args: str) -> Result:
    """`wardgate ARGS` with the store of `settings` in the environment (stdout and
    stderr kept apart, as a shell pipe sees them)."""
    env = {
        "WARDGATE_DATA_DIR": str(settings.data_dir),
        # None removes a variable: an unset URL means the embedded SQLite store.
        "WARDGATE_DATABASE_URL": settings.database_url or None,
        "WARDGATE_KEYSTORE_URL": settings.keystore_url or None,
        "WARDGATE_CRYPTO_SUITE": settings.crypto_suite,
    }
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


def invoke(*args: str) -> Result:
    """`wardgate ARGS` with the environment as the test left it (see `isolated_settings`)."""
    return CliRunner().invoke(app, list(args))


def demo_data_dir(path: Path, customers: int = 5) -> Path:
    """A fresh SQLite demo store of `customers` customers in the data directory `path`."""
    asyncio.run(init_store(Settings(data_dir=path), demo=True, customers=customers))
    return path


def store_rows(data_dir: Path, statement: str, params: tuple[object, ...] = ()) -> list[Any]:
    """Rows (`sqlite3.Row`: by index or by name) of the SQLite store in `data_dir`, read
    behind the gateway's back."""
    conn = sqlite3.connect(data_dir / "wardgate.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(statement, params).fetchall()
    finally:
        conn.close()
