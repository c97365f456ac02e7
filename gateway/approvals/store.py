"""Export requests in the store. Every change of state is one conditional UPDATE on
the status it expects, so two approvers (or two uses of a token) racing in different
processes cannot both succeed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.schema import export_requests, read_counters


async def insert_request(engine: AsyncEngine, values: Mapping[str, Any]) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(export_requests).values(**values))


async def get_request(engine: AsyncEngine, request_id: str) -> Mapping[str, Any] | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(export_requests).where(export_requests.c.id == request_id))
        ).first()
    return None if row is None else dict(row._mapping)


async def list_requests(
    engine: AsyncEngine, *, purpose: str, requester: str | None, status: str | None
) -> list[dict[str, Any]]:
    query = select(export_requests).where(export_requests.c.purpose == purpose)
    if requester is not None:
        query = query.where(export_requests.c.requester == requester)
    if status is not None:
        query = query.where(export_requests.c.status == status)
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(export_requests.c.created_at).limit(500))).all()
    return [dict(row._mapping) for row in rows]


async def transition(
    engine: AsyncEngine, request_id: str, expected: str, values: Mapping[str, Any]
) -> bool:
    """Move a request out of `expected`; False when it is no longer in that state."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(export_requests)
            .where(export_requests.c.id == request_id, export_requests.c.status == expected)
            .values(**values)
        )
    return result.rowcount == 1


async def use_token(
    engine: AsyncEngine, digest: str, scope_hash: str, purpose: str, principal: str, now: str
) -> str | None:
    """Spend a token (single use) if it opens exactly this scope now; its request id."""
    table = export_requests
    where = (
        (table.c.token_hash == digest)
        & (table.c.status == "issued")
        & (table.c.scope_hash == scope_hash)
        & (table.c.purpose == purpose)
        & (table.c.requester == principal)
        & (table.c.token_expires_at > now)
    )
    async with engine.begin() as conn:
        found = (await conn.execute(select(table.c.id).where(where))).first()
        if found is None:
            return None
        result = await conn.execute(
            update(table).where(where, table.c.id == found.id).values(status="used", used_at=now)
        )
    return str(found.id) if result.rowcount == 1 else None


async def count_read(
    engine: AsyncEngine, *, principal: str, purpose: str, day: str, records: int, threshold: int
) -> bool:
    """Add `records` to today's counter if it stays within `threshold`: one UPDATE
    (an INSERT on the first read of the day)."""
    table = read_counters
    key = (table.c.principal_id == principal) & (table.c.purpose == purpose) & (table.c.day == day)
    add = (
        update(table)
        .where(key, table.c.records + records <= threshold)
        .values(records=table.c.records + records)
    )
    async with engine.begin() as conn:
        if (await conn.execute(add)).rowcount == 1:
            return True
    if records > threshold:
        return False
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(table).values(
                    principal_id=principal, purpose=purpose, day=day, records=records
                )
            )
    except IntegrityError:
        # Today's row exists: made by another process just now, or this read would pass
        # the threshold. The conditional UPDATE decides which.
        async with engine.begin() as conn:
            return bool((await conn.execute(add)).rowcount == 1)
    return True


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


async def get_request_by_token(engine: AsyncEngine, digest: str) -> Mapping[str, Any] | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(export_requests).where(export_requests.c.token_hash == digest)
            )
        ).first()
    return None if row is None else dict(row._mapping)
