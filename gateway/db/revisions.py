"""The schema revision each store must be at, and a read of the revision it is at.

The heads are recorded here, in the build, rather than read from the migration scripts
at start-up: alembic's import and its scan of the scripts cost about a third of a
second of CPU before `/readyz`, to learn a constant of the release.
`tests/gateway/db/test_revisions.py` fails if a migration is added and these are not
moved with it.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Connection, Select, String, column, inspect, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["HEADS", "VERSION_TABLES", "Schema", "stored_revision"]


class Schema(StrEnum):
    """A migration history; the value is its scripts' directory in `gateway.db`."""

    STORE = "migrations"
    KEYSTORE = "keystore_migrations"


HEADS: dict[Schema, str] = {Schema.STORE: "0012", Schema.KEYSTORE: "k0001"}
"""The newest revision of each history, as its last migration script names it."""

VERSION_TABLES: dict[Schema, str] = {
    Schema.STORE: "alembic_version",
    Schema.KEYSTORE: "wardgate_keystore_version",
}


async def stored_revision(engine: AsyncEngine, schema: Schema) -> str | None:
    """The revision recorded in the store's version table (None: no table, or no row).

    Several rows (branches merged by hand) come back joined by ", ", which is never a
    head: such a store is refused rather than guessed at.
    """
    name = VERSION_TABLES[schema]

    def read(connection: Connection) -> str | None:
        # Inspected first, as alembic does: a failed SELECT would abort a PostgreSQL
        # transaction, and the error text differs per dialect.
        if not inspect(connection).has_table(name):
            return None
        versions: Select[str] = select(column("version_num", String)).select_from(table(name))
        revisions = sorted(str(row[0]) for row in connection.execute(versions))
        return ", ".join(revisions) or None

    async with engine.connect() as conn:
        return await conn.run_sync(read)
