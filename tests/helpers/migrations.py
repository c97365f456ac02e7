"""Stores taken to a given Alembic revision (up or down), and plain SQL against them: for
tests of what a migration does to the data an older store holds, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from gateway.db.engine import create_database
from gateway.db.migrate import alembic_config
from gateway.settings import Settings

MIGRATION_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

Statement = tuple[str, Mapping[str, object]]


def empty_store_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings of a store with no tables yet: SQLite in `tmp_path`, or a fresh PostgreSQL
    database (asked of `postgres_url_factory` only then, so SQLite runs need no server)."""
    settings = Settings(data_dir=tmp_path, log_json=True)
    if backend == "postgres":
        make: Callable[[], str] = request.getfixturevalue("postgres_url_factory")
        settings = settings.with_overrides(database_url=make())
    return settings


async def _alembic(settings: Settings, step: Callable[[Config, str], None], revision: str) -> None:
    db = create_database(settings)
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        step(config, revision)

    try:
        async with db.writer.begin() as conn:
            await conn.run_sync(run)
    finally:
        await db.dispose()


async def upgrade_to(settings: Settings, revision: str) -> None:
    """Migrate the store up to `revision` ("head" for the newest)."""
    await _alembic(settings, command.upgrade, revision)


async def downgrade_to(settings: Settings, revision: str) -> None:
    """Migrate the store down to `revision`."""
    await _alembic(settings, command.downgrade, revision)


async def execute_all(settings: Settings, statements: Sequence[Statement]) -> list[Any]:
    """Run `statements` in one transaction; the rows of the last one (none if it returns
    none)."""
    db = create_database(settings)
    rows: list[Any] = []
    try:
        async with db.writer.begin() as conn:
            for statement, params in statements:
                result = await conn.execute(text(statement), params)
                rows = list(result.all()) if result.returns_rows else []
    finally:
        await db.dispose()
    return rows


async def execute(
    settings: Settings, statement: str, params: Mapping[str, object] | None = None
) -> list[Any]:
    """Run one statement in a transaction of its own; its rows (none if it returns none)."""
    return await execute_all(settings, [(statement, params or {})])
