"""Group commit: concurrent appends share transactions, each gets its own committed seq."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from audit import AuditEntry, AuditWriteError, GroupCommitAppender, Outcome, audit_events
from gateway.db.engine import create_database
from gateway.db.migrate import upgrade_to_head
from gateway.settings import Settings


def entry(n: int) -> AuditEntry:
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=f"req-{n}",
        action="customers.read",
        outcome=Outcome.ALLOWED,
        status=200,
        record_ids=(f"cus_{n:026d}",),
    )


async def test_given_concurrent_appends_then_unique_consecutive_committed_seqs(
    tmp_path: Path,
) -> None:
    db = create_database(Settings(data_dir=tmp_path))
    await upgrade_to_head(db.writer)
    appender = GroupCommitAppender(db.writer)
    appender.start()
    try:
        seqs = await asyncio.gather(*(appender.append(entry(n)) for n in range(200)))
    finally:
        await appender.close()
    assert sorted(seqs) == list(range(200))
    assert appender.batches < 200, "entries were grouped"
    async with db.reader.connect() as conn:
        rows = (await conn.execute(select(audit_events.c.seq, audit_events.c.request_id))).all()
    # Each caller's seq is the row holding its own entry.
    assert {row.seq: row.request_id for row in rows} == {
        seq: f"req-{n}" for n, seq in enumerate(seqs)
    }
    await db.dispose()


async def test_given_store_refusing_inserts_then_every_waiter_gets_the_error(
    tmp_path: Path,
) -> None:
    db = create_database(Settings(data_dir=tmp_path))
    await upgrade_to_head(db.writer)
    async with db.writer.begin() as conn:
        await conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'down'); END"
            )
        )
    appender = GroupCommitAppender(db.writer)
    appender.start()
    try:
        results = await asyncio.gather(
            *(appender.append(entry(n)) for n in range(20)), return_exceptions=True
        )
    finally:
        await appender.close()
    assert all(isinstance(result, AuditWriteError) for result in results)
    async with db.reader.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(audit_events))).scalar()
    assert count == 0
    await db.dispose()


async def test_given_appender_not_started_then_append_refuses(tmp_path: Path) -> None:
    db = create_database(Settings(data_dir=tmp_path))
    with pytest.raises(AuditWriteError):
        await GroupCommitAppender(db.writer).append(entry(1))
    await db.dispose()
