"""Run Alembic migrations from code, on the gateway's own async engines.

The customer store and the key store have separate histories (and version tables), so
the key store can live in a database of its own.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.revisions import VERSION_TABLES, Schema

__all__ = ["Schema", "alembic_config", "current_revision", "head_revision", "upgrade_to_head"]


def alembic_config(schema: Schema = Schema.STORE) -> Config:
    config = Config()
    location = resources.files("gateway.db").joinpath(schema.value)
    config.set_main_option("script_location", str(location))
    return config


def head_revision(schema: Schema = Schema.STORE) -> str | None:
    return ScriptDirectory.from_config(alembic_config(schema)).get_current_head()


async def upgrade_to_head(engine: AsyncEngine, schema: Schema = Schema.STORE) -> None:
    config = alembic_config(schema)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def current_revision(engine: AsyncEngine, schema: Schema = Schema.STORE) -> str | None:
    def read(connection: Connection) -> str | None:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLES[schema]}
        )
        return context.get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)
