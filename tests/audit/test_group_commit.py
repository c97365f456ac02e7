"""Group commit: concurrent appends share transactions, each gets its own committed seq."""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from audit import AuditEntry, AuditWriteError, GroupCommitAppender, Outcome, audit_events
from audit.merkle import Frontier
from audit.schema import audit_tree
from audit.verify import LogVerifier, VerifyReport
from gateway.compliance.log_reader import snapshot, stream_entries
from gateway.db.engine import Database, create_database
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


async def _verified_log(db: Database) -> tuple[VerifyReport, bytes]:
    """The log checked from its entries, and the root of the tree state writers keep."""
    log = LogVerifier([])
    async with snapshot(db) as conn:
        async for seq, canonical, stored in stream_entries(conn):
            log.feed(seq, canonical, stored)
        state = (await conn.execute(select(audit_tree.c.frontier))).scalar_one()
    return log.finish(), Frontier.from_json(state).root()


async def test_given_two_writers_taking_turns_then_each_appends_after_the_others_entries(
    tmp_path: Path,
) -> None:
    """Each SQLite writer keeps the tree state it last committed; a batch another process
    appended in between must be built on, never overwritten or forked."""
    first_db = create_database(Settings(data_dir=tmp_path))
    await upgrade_to_head(first_db.writer)
    second_db = create_database(Settings(data_dir=tmp_path))
    writers = [
        GroupCommitAppender(db.writer, sync_engine=db.audit_writer) for db in (first_db, second_db)
    ]
    for writer in writers:
        writer.start()
    try:
        seqs = [await writers[n % 2].append(entry(n)) for n in range(12)]
        # Both again at once, with the other's state already behind each one's.
        seqs += await asyncio.gather(*(writers[n % 2].append(entry(n)) for n in range(12, 40)))
    finally:
        for writer in writers:
            await writer.close()
    assert seqs[:12] == list(range(12))
    assert sorted(seqs) == list(range(40))
    report, stored_root = await _verified_log(first_db)
    assert report.ok, report.problem
    assert report.entries == 40
    assert stored_root.hex() == report.root_hash
    for db in (first_db, second_db):
        await db.dispose()


async def test_given_a_failed_batch_when_the_store_recovers_then_the_writer_appends_again(
    tmp_path: Path,
) -> None:
    """The SQLite writer keeps its connection between batches: one failed batch must not
    leave it (or the tree state it remembers) unusable for the next."""
    db = create_database(Settings(data_dir=tmp_path))
    await upgrade_to_head(db.writer)
    appender = GroupCommitAppender(db.writer, sync_engine=db.audit_writer)
    appender.start()
    try:
        assert await appender.append(entry(0)) == 0
        async with db.writer.begin() as conn:
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'down'); END"
                )
            )
        with pytest.raises(AuditWriteError):
            await appender.append(entry(1))
        assert appender.failing
        async with db.writer.begin() as conn:
            await conn.execute(text("DROP TRIGGER refuse"))
        assert await appender.append(entry(2)) == 1
        assert not appender.failing
    finally:
        await appender.close()
    report, stored_root = await _verified_log(db)
    assert report.ok, report.problem
    assert report.entries == 2
    assert stored_root.hex() == report.root_hash
    await db.dispose()


async def test_given_entries_queued_while_another_writer_commits_then_they_join_the_next_batch(
    tmp_path: Path,
) -> None:
    """The SQLite writer takes its batch once its turn in the writers' queue has come:
    what arrived during another process's commit goes with it, not one turn later."""
    db = create_database(Settings(data_dir=tmp_path))
    await upgrade_to_head(db.writer)
    appender = GroupCommitAppender(db.writer, sync_engine=db.audit_writer)
    appender.start()
    queue = os.open(f"{tmp_path / 'wardgate.db'}-audit.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(queue, fcntl.LOCK_EX)  # another process's writer is committing
        first = asyncio.ensure_future(appender.append(entry(0)))
        await asyncio.sleep(0.3)  # the writer thread now waits for its turn
        rest = [asyncio.ensure_future(appender.append(entry(n))) for n in range(1, 10)]
        await asyncio.sleep(0.1)
        assert not first.done()
        fcntl.flock(queue, fcntl.LOCK_UN)
        seqs = await asyncio.wait_for(asyncio.gather(first, *rest), timeout=30)
    finally:
        os.close(queue)
        await appender.close()
    assert seqs == list(range(10))
    assert appender.batches == 1
    report, _ = await _verified_log(db)
    assert report.ok, report.problem
    assert report.entries == 10
    await db.dispose()


async def test_given_the_writers_queue_unusable_then_every_waiter_gets_the_error(
    tmp_path: Path,
) -> None:
    """A batch that fails before its turn (here the queue's file cannot be opened) still
    answers the entries it would have taken, with the error, instead of retrying them."""
    db = create_database(Settings(data_dir=tmp_path))
    await upgrade_to_head(db.writer)
    (tmp_path / "wardgate.db-audit.lock").mkdir()  # opening it for writing fails
    appender = GroupCommitAppender(db.writer, sync_engine=db.audit_writer)
    appender.start()
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(appender.append(entry(n)) for n in range(5)), return_exceptions=True),
            timeout=30,
        )
        assert appender.failing
    finally:
        await appender.close()
    assert all(isinstance(result, AuditWriteError) for result in results)
    async with db.reader.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(audit_events))).scalar() == 0
    await db.dispose()
