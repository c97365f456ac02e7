"""Export requests in the store. Every change of state is one conditional UPDATE on
the status it expects, so two approvers (or two uses of a token) racing in different
processes cannot both succeed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit import AuditEntry
from gateway.db.schema import export_requests


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


_COUNT_SQL = (
    "INSERT INTO read_counters (principal_id, purpose, day, records) VALUES ({0}, {1}, {2}, {3}) "
    "ON CONFLICT (principal_id, purpose, day) DO UPDATE "
    "SET records = read_counters.records + excluded.records "
    "WHERE read_counters.records + excluded.records <= {4} RETURNING records"
)
"""Add a read's records to today's counter if it stays within the threshold: one
statement (an insert on the first read of the day), which returns no row when the
counter would pass it. Placeholders per driver: sqlite3 `?`, asyncpg `$n`, SQLAlchemy
`:name`."""
_COUNT_SQLITE = _COUNT_SQL.format(*("?" * 5))
_COUNT_ASYNCPG = _COUNT_SQL.format(*(f"${n}" for n in range(1, 6)))
_COUNT_TEXT = text(_COUNT_SQL.format(":principal", ":purpose", ":day", ":records", ":threshold"))


@dataclass(slots=True)
class ReadQuota:
    """The export-threshold check of one read, decided by the audit batch that writes
    the read's entry (an `audit.admission.Admission`): the counter and the entry commit
    together, in the batch's transaction and under its lock (SQLite's write lock taken
    by BEGIN IMMEDIATE, behind the writers' flock; PostgreSQL's lock on the tree row,
    then this row's), so reads from any number of tasks and worker processes never
    count past the threshold. A read of more records than the threshold is refused
    before it gets here."""

    principal: str
    purpose: str
    day: str
    records: int
    threshold: int
    refusal: AuditEntry
    admitted: bool | None = None

    def _params(self) -> tuple[str, str, str, int, int]:
        return (self.principal, self.purpose, self.day, self.records, self.threshold)

    def admit_sqlite(self, cursor: Any) -> bool:
        return cursor.execute(_COUNT_SQLITE, self._params()).fetchone() is not None

    async def admit_asyncpg(self, conn: Any) -> bool:
        return await conn.fetchrow(_COUNT_ASYNCPG, *self._params()) is not None

    async def admit_sql(self, conn: AsyncConnection) -> bool:
        keys = ("principal", "purpose", "day", "records", "threshold")
        found = await conn.execute(_COUNT_TEXT, dict(zip(keys, self._params(), strict=True)))
        return found.first() is not None


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
