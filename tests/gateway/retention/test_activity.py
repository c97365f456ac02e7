"""Last activity: filled in for existing rows by migration 0009, kept by writes and
consent changes (never moved back), untouched by reads — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from litestar.testing import TestClient

from gateway.app import WardgateApp
from gateway.db.engine import create_database
from gateway.db.migrate import upgrade_to_head
from gateway.retention.activity import record_activity
from tests.helpers.api import Api
from tests.helpers.customers import SUPPORT, grant, new_customer
from tests.helpers.migrations import (
    MIGRATION_BACKENDS,
    Statement,
    empty_store_settings,
    execute_all,
    upgrade_to,
)
from tests.helpers.store import Store

# --- migration 0009 ---------------------------------------------------------------------


def _customer(cid: str, created: str, updated: str) -> Statement:
    return (
        "INSERT INTO customers (id, name, created_at, updated_at) "
        "VALUES (:id, 'ciphertext', :c, :u)",
        {"id": cid, "c": created, "u": updated},
    )


def _related(table: str, column: str, rid: str, cid: str, at: str) -> Statement:
    return (
        f"INSERT INTO {table} (id, customer_id, {column}, created_at, updated_at) "  # noqa: S608 - fixed names
        "VALUES (:id, :cid, :at, '2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00')",
        {"id": rid, "cid": cid, "at": at},
    )


def _consent(cid: str, at: str) -> Statement:
    return (
        "INSERT INTO consents (id, customer_id, purpose, kind, at, separate, recorded_by, "
        "request_id) VALUES (:id, :cid, 'marketing', 'grant', :at, '[]', 'test', 'r')",
        {"id": f"cns_{cid}", "cid": cid, "at": at},
    )


@pytest.mark.parametrize("backend", MIGRATION_BACKENDS)
def test_given_a_store_before_0009_then_last_activity_is_the_latest_instant_it_holds(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = empty_store_settings(backend, tmp_path, request)
    asyncio.run(upgrade_to(settings, "0006"))
    asyncio.run(
        execute_all(
            settings,
            [
                _customer("cus_a", "2024-01-01T00:00:00.000000+00:00", "2024-02-01T00:00:00+00:00"),
                # 10:00 in Beijing is 02:00 UTC: later than the order at 01:00Z, though
                # its text sorts before it.
                _related(
                    "interactions", "occurred_at", "int_a", "cus_a", "2025-05-05T10:00:00+08:00"
                ),
                _related("orders", "ordered_at", "ord_a", "cus_a", "2025-05-05T01:00:00Z"),
                _consent("cus_a", "2024-12-31T00:00:00.000000+00:00"),
                _customer("cus_b", "2023-01-01T00:00:00+00:00", "2023-06-01T00:00:00+00:00"),
                _customer("cus_c", "2022-01-01T00:00:00+00:00", "2022-01-01T00:00:00+00:00"),
                _consent("cus_c", "2026-03-01T12:00:00.000000+00:00"),
            ],
        )
    )

    async def upgrade() -> None:
        db = create_database(settings)
        try:
            await upgrade_to_head(db.writer)
        finally:
            await db.dispose()

    asyncio.run(upgrade())
    rows = asyncio.run(
        execute_all(settings, [("SELECT id, last_activity_at FROM customers ORDER BY id", {})])
    )

    assert [tuple(row) for row in rows] == [
        ("cus_a", "2025-05-05T02:00:00.000000+00:00"),
        ("cus_b", "2023-06-01T00:00:00.000000+00:00"),
        ("cus_c", "2026-03-01T12:00:00.000000+00:00"),
    ]


# --- kept by the write paths ------------------------------------------------------------


def _activity(store: Store, customer_id: str) -> str:
    rows = store.sql("SELECT last_activity_at FROM customers WHERE id = :id", {"id": customer_id})
    return str(rows[0][0])


def test_given_writes_consents_and_reads_then_only_writes_and_consents_move_it(
    fresh_store: Store,
) -> None:
    with TestClient(app=WardgateApp(fresh_store.settings)) as client:  # type: ignore[arg-type]
        api = Api(client, fresh_store, client.app)  # type: ignore[arg-type]
        customer = new_customer(api)
        created = _activity(fresh_store, customer)
        (created_at,) = fresh_store.sql(
            "SELECT created_at FROM customers WHERE id = :id", {"id": customer}
        )[0]

        patched = api.patch(f"/v1/customers/{customer}", *SUPPORT, json={"tier": "silver"})
        after_write = _activity(fresh_store, customer)
        granted = grant(api, customer, SUPPORT, purpose="customer_service")
        after_consent = _activity(fresh_store, customer)
        api.get(f"/v1/customers/{customer}", *SUPPORT)
        api.get(f"/v1/customers/{customer}/consents", *SUPPORT)
        after_reads = _activity(fresh_store, customer)

    assert created == created_at
    assert patched.status_code == 200
    assert after_write > created
    assert granted.status_code == 201, granted.text
    assert after_consent > after_write
    (consent_at,) = fresh_store.sql(
        "SELECT at FROM consents WHERE customer_id = :id", {"id": customer}
    )[0]
    assert dt.datetime.fromisoformat(after_consent) == dt.datetime.fromisoformat(consent_at)
    assert after_reads == after_consent


def test_given_an_older_activity_then_it_never_moves_last_activity_back(
    fresh_store: Store,
) -> None:
    customer = fresh_store.sql("SELECT id FROM customers ORDER BY id LIMIT 1")[0][0]
    before = _activity(fresh_store, customer)

    async def record(at: dt.datetime) -> None:
        db = create_database(fresh_store.settings)
        try:
            async with db.writer.begin() as conn:
                await record_activity(conn, {customer: at})
        finally:
            await db.dispose()

    asyncio.run(record(dt.datetime(2001, 1, 1, tzinfo=dt.UTC)))
    assert _activity(fresh_store, customer) == before
    asyncio.run(record(dt.datetime(2031, 1, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))))
    assert _activity(fresh_store, customer) == "2031-01-01T00:00:00.000000+00:00"


def test_given_the_demo_then_seeded_activity_comes_from_the_seeded_history(
    fresh_store: Store,
) -> None:
    rows = fresh_store.sql(
        "SELECT c.id, c.last_activity_at, max(i.occurred_at) FROM customers c "
        "JOIN interactions i ON i.customer_id = c.id GROUP BY c.id, c.last_activity_at"
    )

    assert rows
    for _, last, latest_interaction in rows:
        assert dt.datetime.fromisoformat(last) >= dt.datetime.fromisoformat(latest_interaction)
    created = {row[0] for row in fresh_store.sql("SELECT created_at FROM customers")}
    assert any(row[1] not in created for row in rows)  # not simply the seeding time
