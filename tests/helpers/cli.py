"""Running the `wardgate` CLI in-process against a test store, as an operator would."""

from __future__ import annotations

from click.testing import Result
from typer.testing import CliRunner

from gateway.cli.main import app
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
