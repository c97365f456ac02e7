"""The hot path issues a constant number of statements per page, whatever its size."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from gateway.compliance.checkpoints import TASK_NAMES as CHECKPOINT_TASKS
from gateway.policy.reload import TASK_NAMES as RELOADER_TASKS
from tests.helpers.api import Api

# Background work of the shared app that may query while a request is measured (the
# SQLite policy check runs every 250 ms): not the request's statements.
BACKGROUND = frozenset(RELOADER_TASKS + CHECKPOINT_TASKS)


def in_background() -> bool:
    try:
        task = asyncio.current_task()
    except RuntimeError:  # not on the event loop
        return False
    return task is not None and task.get_name() in BACKGROUND


@contextmanager
def counting(api: Api) -> Iterator[list[str]]:
    statements: list[str] = []
    db = api.state.db
    engines = list({id(e): e.sync_engine for e in (db.reader, db.writer, db.keys)}.values())
    # The read pipelines' statements, on sqlite3 (SQLite) or asyncpg (PostgreSQL).
    fast_readers = [reader for reader in (db.inline, db.fast) if reader is not None]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not in_background():
            statements.append(statement.split()[0].upper())

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    for reader in fast_readers:
        reader.observers.append(lambda sql: count(None, None, sql))
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
        for reader in fast_readers:
            reader.observers.clear()


@pytest.mark.parametrize(
    ("principal", "purpose"),
    [
        ("support-desk", "customer_service"),
        ("marketing-app", "marketing"),
        ("analytics-job", "analytics"),
    ],
)
def test_given_pages_of_5_and_40_then_same_number_of_queries(
    api: Api, principal: str, purpose: str
) -> None:
    # Warm the key cache so both pages are measured alike.
    api.get("/v1/customers", principal, purpose, params={"limit": "500"})
    counts = []
    for limit in ("5", "40"):
        with counting(api) as statements:
            response = api.get("/v1/customers", principal, purpose, params={"limit": limit})
        assert response.status_code == 200
        counts.append(len([s for s in statements if s == "SELECT"]))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 3  # the page, the consent states, the audit tree head
    assert counts[0] >= 1  # the page's own statement is counted, on either fast path


@pytest.mark.parametrize(
    ("principal", "purpose"),
    [("support-desk", "customer_service"), ("marketing-app", "marketing")],
)
def test_given_related_pages_of_1_and_many_then_same_number_of_queries(
    api: Api, principal: str, purpose: str
) -> None:
    """Marketing needs consent: it is decided on the parent customer, in memory, from
    the history its existence check carries."""
    consented = set(api.store.consented("marketing"))
    owners = [row[0] for row in api.store.sql("SELECT customer_id FROM orders")]
    customer_id = max(
        (c for c in set(owners) if c in consented), key=lambda c: (owners.count(c), c)
    )
    assert owners.count(customer_id) > 1
    path = f"/v1/customers/{customer_id}/orders"
    api.get(path, principal, purpose)  # warm the key cache
    counts = []
    for limit in ("1", "50"):
        with counting(api) as statements:
            response = api.get(path, principal, purpose, params={"limit": limit})
        assert response.status_code == 200, response.text
        counts.append(len([s for s in statements if s == "SELECT"]))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 3  # the customer (with its consents), the page, the audit tree head
    assert counts[0] >= 2  # the customer's and the page's statements are counted
