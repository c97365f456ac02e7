"""Opening an existing store from a command, and refusing, creating nothing, when there
is none. Only `wardgate init` creates a store."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url

from gateway.cli.errors import OperatorError
from gateway.db.engine import Database, create_database
from gateway.db.opening import check_schemas
from gateway.db.revisions import Schema, stored_revision
from gateway.settings import Settings


def where(settings: Settings) -> str:
    """The store's place, for messages: a directory, or a PostgreSQL database (no password)."""
    if settings.database_url is None:
        return str(settings.data_dir)
    url = make_url(settings.database_url)
    return f"PostgreSQL database {url.database!r} on {url.host or 'localhost'}:{url.port or 5432}"


def _init_hint(settings: Settings) -> str:
    if settings.database_url is None:
        return f"run `wardgate init --data-dir {settings.data_dir}` to create one"
    return "run `wardgate init` with the same WARDGATE_DATABASE_URL to create one"


def _missing(settings: Settings, looked_for: str) -> OperatorError:
    return OperatorError(
        f"no Wardgate store in {where(settings)} ({looked_for}): {_init_hint(settings)}, "
        "or point --data-dir / WARDGATE_DATA_DIR at an existing one"
    )


def _require_file(settings: Settings) -> None:
    """Refuse before an engine opens (SQLite would create an empty file, and the
    engine the data directory) when the embedded store is not there."""
    if settings.is_sqlite and not settings.sqlite_path.is_file():
        raise _missing(settings, f"{settings.sqlite_path} does not exist")


def _require_keystore_file(settings: Settings) -> None:
    if settings.keystore_url is None and not settings.keystore_path.is_file():
        if settings.is_sqlite:
            raise _missing(settings, f"{settings.keystore_path} does not exist")
        raise OperatorError(
            f"no key store: {settings.keystore_path} does not exist (set WARDGATE_KEYSTORE_URL "
            "to the key store's database, or restore the file)"
        )


async def open_store(settings: Settings, *, current: bool = True) -> Database:
    """The engines of an existing store. With `current`, its schemas must be at the
    newest migration (`wardgate db upgrade` opens it with `current=False`)."""
    _require_file(settings)
    db = create_database(settings)  # engines connect lazily: nothing is created yet
    try:
        if await stored_revision(db.reader, Schema.STORE) is None:
            raise _missing(settings, "its schema has never been created")
        _require_keystore_file(settings)
        if current:
            await check_schemas(db)
    except BaseException:
        await db.dispose()
        raise
    return db


def require_store(settings: Settings) -> None:
    """`open_store` for commands that open the store themselves (serve, import)."""

    async def probe() -> None:
        await (await open_store(settings, current=False)).dispose()

    asyncio.run(probe())
