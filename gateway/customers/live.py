"""The one check that a customer id names a live customer: 404 `not_found` if there is
no such record, 410 `erased` if its personal information was erased."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.schema import store_tables
from gateway.http.errors import Gone, NotFound


def live_customer(
    row: Row[Any] | None, *, found: Callable[[], None] | None = None
) -> Mapping[Any, Any]:
    """The customer `row` (selected with its `erased_at`) if it is live.

    `found` runs once the id is known to exist, before the erasure check: audit
    contexts record an id only then (a caller may type anything into a path).
    """
    if row is None:
        msg = "no customers record with that id"
        raise NotFound(msg)
    if found is not None:
        found()
    if row.erased_at is not None:
        msg = "this customer's personal information was erased"
        raise Gone(msg, reason="erased")
    return row._mapping


async def require_live_customer(
    conn: AsyncConnection,
    customer_id: str,
    columns: Sequence[str] = (),
    *,
    found: Callable[[], None] | None = None,
) -> Mapping[Any, Any]:
    """The live customer's `id`, `erased_at` and `columns`; NotFound or Gone otherwise."""
    table = store_tables()["customers"]
    query = select(table.c.id, table.c.erased_at, *(table.c[name] for name in columns))
    row = (await conn.execute(query.where(table.c.id == customer_id))).first()
    return live_customer(row, found=found)
