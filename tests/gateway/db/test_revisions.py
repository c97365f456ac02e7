"""The schema check without alembic: the heads recorded in the build are alembic's, and
a store or key store at any other revision is refused with the same message as before."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import text

from gateway.db.engine import create_database
from gateway.db.migrate import current_revision, head_revision
from gateway.db.opening import StoreNotReadyError, check_schemas
from gateway.db.revisions import HEADS, VERSION_TABLES, Schema, stored_revision
from tests.helpers.store import BACKENDS, Store, new_store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A store of this test's own: the tests rewrite its version tables."""
    return new_store(request, tmp_path_factory)


def set_version(store: Store, schema: Schema, statement: str) -> None:
    """Run `statement` on the database that holds `schema`'s version table."""

    async def run() -> None:
        db = create_database(store.settings)
        engine = db.writer if schema is Schema.STORE else db.keys
        try:
            async with engine.begin() as conn:
                await conn.execute(text(statement.format(table=VERSION_TABLES[schema])))
        finally:
            await db.dispose()

    asyncio.run(run())


def refusal(store: Store) -> str:
    async def run() -> str:
        db = create_database(store.settings)
        try:
            with pytest.raises(StoreNotReadyError) as refused:
                await check_schemas(db)
            return str(refused.value)
        finally:
            await db.dispose()

    return asyncio.run(run())


def revisions(store: Store) -> tuple[str | None, str | None, str | None, str | None]:
    """The store's and key store's revisions, read by us and by alembic."""

    async def run() -> tuple[str | None, str | None, str | None, str | None]:
        db = create_database(store.settings)
        try:
            return (
                await stored_revision(db.reader, Schema.STORE),
                await current_revision(db.reader, Schema.STORE),
                await stored_revision(db.keys, Schema.KEYSTORE),
                await current_revision(db.keys, Schema.KEYSTORE),
            )
        finally:
            await db.dispose()

    return asyncio.run(run())


@pytest.mark.parametrize("schema", list(Schema))
def test_given_migration_scripts_then_recorded_head_is_alembics(schema: Schema) -> None:
    """A new migration without its head moved here fails this test, not a start-up."""
    assert HEADS[schema] == head_revision(schema)


def test_given_migrated_store_then_read_revisions_equal_alembics_and_check_passes(
    store: Store,
) -> None:
    store_head, keystore_head = HEADS[Schema.STORE], HEADS[Schema.KEYSTORE]

    assert revisions(store) == (store_head, store_head, keystore_head, keystore_head)


def test_given_store_at_old_revision_then_refused_with_the_same_message(store: Store) -> None:
    set_version(store, Schema.STORE, "UPDATE {table} SET version_num = '0010'")

    assert refusal(store) == (
        f"store schema is at 0010, expected {HEADS[Schema.STORE]}: "
        "run `wardgate init` (new store) or `wardgate db upgrade`"
    )


def test_given_key_store_at_old_revision_then_refused(store: Store) -> None:
    set_version(store, Schema.KEYSTORE, "UPDATE {table} SET version_num = 'k0000'")

    assert refusal(store).startswith(
        f"key store schema is at k0000, expected {HEADS[Schema.KEYSTORE]}: "
    )


def test_given_empty_version_table_then_refused_as_at_nothing(store: Store) -> None:
    set_version(store, Schema.STORE, "DELETE FROM {table}")

    assert refusal(store).startswith(f"store schema is at nothing, expected {HEADS[Schema.STORE]}")


def test_given_two_version_rows_then_refused_naming_both(store: Store) -> None:
    set_version(store, Schema.STORE, "INSERT INTO {table} (version_num) VALUES ('0010')")

    assert re.match(
        rf"store schema is at 0010, {HEADS[Schema.STORE]}, expected {HEADS[Schema.STORE]}: ",
        refusal(store),
    )


def test_given_no_version_table_then_refused_as_at_nothing(store: Store) -> None:
    set_version(store, Schema.KEYSTORE, "DROP TABLE {table}")

    assert refusal(store).startswith("key store schema is at nothing, expected ")
