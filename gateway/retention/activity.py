"""A customer's last activity: the clock that retention counts from.

**Rule.** A customer's last activity is the latest of:

- the creation of their record (for customers seeded by `wardgate init --demo`, the
  time the seeded history says they became a customer);
- every write to their record (`POST`/`PATCH /v1/customers`, `wardgate import`);
- the `occurred_at` of each of their interactions and the `ordered_at` of each order;
- the `at` of each consent event recorded for them (grant or withdrawal, API or import).

Reads are not activity: staff looking at a record is not the person using the
service. Erasure is not activity either.

It is kept in `customers.last_activity_at` (UTC, ISO 8601 with microseconds, so text
order is time order) and moved forward, never back, by the write that causes it, in
that write's transaction: one UPDATE per write or per import batch, never a query per
record on a read. Migration 0009 filled it in for rows that existed before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.schema import LAST_ACTIVITY_COLUMN, customers_table


def stamp(at: dt.datetime) -> str:
    """The stored form of an instant: UTC, microseconds (sorts as text)."""
    if at.tzinfo is None:
        msg = "activity times carry a time zone"
        raise ValueError(msg)
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def latest(
    times: Mapping[str, dt.datetime], more: Mapping[str, dt.datetime]
) -> dict[str, dt.datetime]:
    """Both mappings' latest time per customer."""
    merged = dict(times)
    for customer_id, at in more.items():
        if customer_id not in merged or at > merged[customer_id]:
            merged[customer_id] = at
    return merged


async def record_activity(conn: AsyncConnection, times: Mapping[str, dt.datetime]) -> None:
    """Move each customer's last activity forward to the given time (never back).

    One executemany statement for all of them, in the caller's transaction."""
    if not times:
        return
    table = customers_table()
    column = table.c[LAST_ACTIVITY_COLUMN]
    statement = (
        update(table)
        .where(table.c.id == bindparam("cid"))
        .where(or_(column.is_(None), column < bindparam("at")))
        .values({LAST_ACTIVITY_COLUMN: bindparam("at")})
    )
    await conn.execute(
        statement, [{"cid": cid, "at": stamp(at)} for cid, at in sorted(times.items())]
    )
