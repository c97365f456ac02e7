"""A lease row: one holder at a time for a job, across every worker, process and host.

`job_leases` has one row per job. Taking the lease is one conditional UPDATE (free, or
expired, or already ours), so of several processes asking at once exactly one gets it,
on SQLite (one writer at a time) as on PostgreSQL (the row lock). A holder renews it
while it works; one that dies lets it expire, and another takes over. The row also
remembers when the job last completed, which is how "daily" is kept across processes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.engine import Database
from gateway.db.schema import job_leases


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class Lease:
    """The lease of job `name` as `holder` would take it; `ttl` past each take or renewal."""

    db: Database
    name: str
    holder: str
    ttl: dt.timedelta

    async def _ensure_row(self, conn: AsyncConnection) -> None:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        await conn.execute(insert(job_leases).values(name=self.name).on_conflict_do_nothing())

    async def acquire(self, now: dt.datetime) -> bool:
        """Take the lease if it is free, expired or ours; True if we hold it now."""
        async with self.db.writer.begin() as conn:
            await self._ensure_row(conn)
            taken = await conn.execute(
                update(job_leases)
                .where(
                    job_leases.c.name == self.name,
                    or_(
                        job_leases.c.holder.is_(None),
                        job_leases.c.holder == self.holder,
                        job_leases.c.expires_at < _stamp(now),
                    ),
                )
                .values(holder=self.holder, expires_at=_stamp(now + self.ttl))
            )
        return taken.rowcount == 1

    async def renew(self, now: dt.datetime) -> bool:
        """Extend the lease; False if it is no longer ours (it expired and was taken)."""
        async with self.db.writer.begin() as conn:
            renewed = await conn.execute(
                update(job_leases)
                .where(job_leases.c.name == self.name, job_leases.c.holder == self.holder)
                .values(expires_at=_stamp(now + self.ttl))
            )
        return renewed.rowcount == 1

    async def release(self, completed_at: dt.datetime | None = None) -> None:
        """Give the lease up, recording when the job completed (None: it did not)."""
        values: dict[str, str | None] = {"holder": None, "expires_at": None}
        if completed_at is not None:
            values["last_completed_at"] = _stamp(completed_at)
        async with self.db.writer.begin() as conn:
            await conn.execute(
                update(job_leases)
                .where(job_leases.c.name == self.name, job_leases.c.holder == self.holder)
                .values(values)
            )

    async def last_completed(self) -> dt.datetime | None:
        async with self.db.reader.connect() as conn:
            value = (
                await conn.execute(
                    select(job_leases.c.last_completed_at).where(job_leases.c.name == self.name)
                )
            ).scalar_one_or_none()
        return None if value is None else dt.datetime.fromisoformat(value)
