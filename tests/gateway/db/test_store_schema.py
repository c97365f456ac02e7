"""The migrated store on both backends: catalog columns, revision, idempotent init."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, inspect

from gateway.db.engine import create_database
from gateway.db.init_store import DEMO_KEYS_FILE, init_store
from gateway.db.migrate import current_revision, head_revision
from gateway.db.schema import metadata, store_tables
from policies.catalog import default_catalog
from tests.helpers.store import DEMO_CUSTOMERS, Store

T = TypeVar("T")

COUNTED_TABLES = (
    "customers",
    "interactions",
    "orders",
    "api_keys",
    "policy_versions",
)


def inspect_store(store: Store, read: Callable[[Connection], T]) -> T:
    """Run `read` on a sync connection of a fresh engine for the store."""

    async def run() -> T:
        db = create_database(store.settings)
        try:
            async with db.reader.connect() as conn:
                return await conn.run_sync(read)
        finally:
            await db.dispose()

    return asyncio.run(run())


def columns_by_table(conn: Connection) -> dict[str, dict[str, dict[str, Any]]]:
    inspector = inspect(conn)
    return {
        table: {column["name"]: dict(column) for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def revision_of(store: Store) -> str | None:
    async def run() -> str | None:
        db = create_database(store.settings)
        try:
            return await current_revision(db.reader)
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_given_migrated_store_then_every_catalog_field_has_a_column(store: Store) -> None:
    columns = inspect_store(store, columns_by_table)

    for entity in default_catalog().entities.values():
        assert entity.name in columns, entity.name
        missing = set(entity.field_names) - set(columns[entity.name])
        assert not missing, f"{entity.name} lacks columns {sorted(missing)}"


def test_given_migrated_store_then_columns_match_the_schema_module(store: Store) -> None:
    columns = inspect_store(store, columns_by_table)

    for name, table in store_tables().items():
        assert set(columns[name]) == {column.name for column in table.columns}, name
        for column in table.columns:
            assert columns[name][column.name]["nullable"] == column.nullable, (
                f"{name}.{column.name}"
            )


def test_given_migrated_store_then_it_holds_every_table_of_the_metadata(store: Store) -> None:
    tables = set(inspect_store(store, lambda conn: inspect(conn).get_table_names()))

    assert set(metadata.tables) <= tables
    assert "audit_events" in tables


def test_given_required_catalog_field_then_its_column_is_not_nullable(store: Store) -> None:
    columns = inspect_store(store, columns_by_table)

    for entity in default_catalog().entities.values():
        for spec in entity.fields:
            if spec.required or spec.name == "id":
                assert columns[entity.name][spec.name]["nullable"] is False, spec.qualified_name


def test_given_migrated_store_then_alembic_revision_is_head(store: Store) -> None:
    head = head_revision()

    assert head is not None
    assert revision_of(store) == head


def test_given_init_run_again_then_nothing_is_added_or_rekeyed(store: Store) -> None:
    data_dir = store.settings.data_dir
    counts = {table: store.count(table) for table in COUNTED_TABLES}
    master_key = (data_dir / "master.key").read_bytes()
    demo_keys = (data_dir / DEMO_KEYS_FILE).read_bytes()
    assert counts["customers"] > 0
    assert counts["api_keys"] > 0

    report = asyncio.run(init_store(store.settings, demo=True, customers=DEMO_CUSTOMERS))

    assert not report.policy_version_created
    assert report.principals_created == 0
    assert (report.customers_created, report.interactions_created, report.orders_created) == (
        0,
        0,
        0,
    )
    assert {table: store.count(table) for table in COUNTED_TABLES} == counts
    assert (data_dir / "master.key").read_bytes() == master_key
    assert (data_dir / DEMO_KEYS_FILE).read_bytes() == demo_keys
    assert revision_of(store) == head_revision()


def test_given_init_without_demo_on_seeded_store_then_nothing_changes(store: Store) -> None:
    counts = {table: store.count(table) for table in COUNTED_TABLES}

    report = asyncio.run(init_store(store.settings, demo=False))

    assert not report.policy_version_created
    assert report.demo_keys_path is None
    assert {table: store.count(table) for table in COUNTED_TABLES} == counts
