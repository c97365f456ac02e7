"""Admissions decided in the audit batch (both stores, every writer): in queue order,
each refused entry replaced by its refusal at its own sequence number, the counter and
the entries committed together; an admission that fails fails its whole batch."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import AuditEntry, AuditWriteError, GroupCommitAppender, Outcome, audit_events
from gateway.approvals.store import ReadQuota
from gateway.db.engine import Database, create_database
from gateway.db.migrate import upgrade_to_head
from tests.helpers.migrations import MIGRATION_BACKENDS, empty_store_settings

THRESHOLD = 10
RECORDS = 3
DAY = "2026-12-04"


def entry(name: str, status: int = 200, reason: str | None = None) -> AuditEntry:
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=name,
        action="customers.list",
        outcome=Outcome.ALLOWED if status == 200 else Outcome.DENIED,
        status=status,
        principal_id="analyst",
        purpose="analytics",
        reason=reason,
    )


def quota(n: int) -> ReadQuota:
    return ReadQuota(
        principal="analyst",
        purpose="analytics",
        day=DAY,
        records=RECORDS,
        threshold=THRESHOLD,
        refusal=entry(f"read-{n}", 403, "approval_required"),
    )


def appender_for(db: Database, writer: str) -> GroupCommitAppender:
    if writer == "sql-layer":
        return GroupCommitAppender(db.writer)
    return GroupCommitAppender(
        db.writer,
        sync_engine=db.audit_writer,
        pg_transaction=None if db.audit_fast is None else db.audit_fast.transaction,
    )


async def logged(db: Database) -> dict[int, tuple[str, int, str | None]]:
    columns = (audit_events.c.seq, audit_events.c.request_id, audit_events.c.status)
    async with db.reader.connect() as conn:
        rows = (await conn.execute(select(*columns, audit_events.c.reason))).all()
    return {row.seq: (row.request_id, row.status, row.reason) for row in rows}


async def counter(db: Database) -> int | None:
    async with db.reader.connect() as conn:
        return (await conn.execute(text("SELECT records FROM read_counters"))).scalar()


@pytest.fixture(params=MIGRATION_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("writer", ["group-commit", "sql-layer"])
def test_given_admissions_in_one_batch_then_decided_in_order_with_their_entries(
    backend: str, writer: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = empty_store_settings(backend, tmp_path, request)

    async def scenario() -> None:
        db = create_database(settings)
        await upgrade_to_head(db.writer)
        appender = appender_for(db, writer)
        appender.start()
        quotas = [quota(n) for n in range(8)]
        try:
            # Counted reads with plain entries between them, all queued at once.
            calls = []
            for n, q in enumerate(quotas):
                calls.append(appender.append(entry(f"read-{n}"), q))
                calls.append(appender.append(entry(f"plain-{n}")))
            seqs = await asyncio.gather(*calls)
            assert appender.batches < len(calls), "entries were grouped"
            # Decided in queue order: three reads of 3 fit in 10, the rest are refused.
            fits = THRESHOLD // RECORDS
            assert [q.admitted for q in quotas] == [True] * fits + [False] * (8 - fits)
            assert await counter(db) == fits * RECORDS
            rows = await logged(db)
            assert sorted(rows) == list(range(len(calls)))
            for n, q in enumerate(quotas):
                expected = (
                    ("read-" + str(n), 200, None)
                    if q.admitted
                    else (
                        f"read-{n}",
                        403,
                        "approval_required",
                    )
                )
                assert rows[seqs[2 * n]] == expected
                assert rows[seqs[2 * n + 1]] == (f"plain-{n}", 200, None)
        finally:
            await appender.close()
            await db.dispose()

    asyncio.run(scenario())


class Failing:
    """An admission whose statement the store refuses."""

    def __init__(self) -> None:
        self.refusal = entry("failing", 403, "approval_required")
        self.admitted: bool | None = None

    def admit_sqlite(self, cursor: Any) -> bool:
        cursor.execute("SELECT * FROM no_such_table")
        return True

    async def admit_asyncpg(self, conn: Any) -> bool:
        await conn.fetchrow("SELECT * FROM no_such_table")
        return True

    async def admit_sql(self, conn: AsyncConnection) -> bool:
        await conn.execute(text("SELECT * FROM no_such_table"))
        return True


@pytest.mark.parametrize("writer", ["group-commit", "sql-layer"])
def test_given_an_admission_failing_then_its_batch_writes_and_counts_nothing(
    backend: str, writer: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = empty_store_settings(backend, tmp_path, request)

    async def scenario() -> None:
        db = create_database(settings)
        await upgrade_to_head(db.writer)
        appender = appender_for(db, writer)
        appender.start()
        try:
            # One batch: a counted read, a plain entry, then the failing admission.
            results = await asyncio.gather(
                appender.append(entry("read-0"), quota(0)),
                appender.append(entry("plain-0")),
                appender.append(entry("failing"), Failing()),
                return_exceptions=True,
            )
            assert all(isinstance(result, AuditWriteError) for result in results)
            assert await logged(db) == {}
            assert await counter(db) is None
            # The writer goes on: the next batch is decided afresh.
            q = quota(1)
            seq = await appender.append(entry("read-1"), q)
            assert q.admitted is True
            assert await logged(db) == {seq: ("read-1", 200, None)}
            assert await counter(db) == RECORDS
        finally:
            await appender.close()
            await db.dispose()

    asyncio.run(scenario())
