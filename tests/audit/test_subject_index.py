"""The subject index: an entry about many people is indexed later and in bulk, and the
"who read my data" report is exact before, during and after (both stores, every writer)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from audit import AuditEntry, GroupCommitAppender, Outcome
from audit.schema import audit_subjects, audit_tree
from audit.store import append_entries
from audit.subjects import BULK_BACKLOG, INLINE_SUBJECTS
from gateway.compliance.reads import access_entries
from gateway.db.engine import Database, create_database
from gateway.db.migrate import upgrade_to_head
from tests.helpers.migrations import (
    MIGRATION_BACKENDS,
    downgrade_to,
    empty_store_settings,
    execute,
    upgrade_to,
)

PEOPLE = tuple(f"cus_{n:026d}" for n in range(40))


def read_of(n: int, subjects: tuple[str, ...]) -> AuditEntry:
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=f"req-{n}",
        action="customers.list" if len(subjects) > 1 else "customers.read",
        outcome=Outcome.ALLOWED,
        status=200,
        entity="customers",
        record_ids=subjects,
        subject_ids=subjects,
    )


def subjects_of(n: int) -> tuple[str, ...]:
    """Every third entry a single read, the others pages of 12 overlapping people (over
    the inline limit), one of them naming a person twice."""
    if n % 3 == 0:
        return (PEOPLE[n % len(PEOPLE)],)
    page = tuple(PEOPLE[(n * 5 + k) % len(PEOPLE)] for k in range(INLINE_SUBJECTS + 4))
    return (*page, page[0]) if n % 7 == 1 else page


async def reported(db: Database, person: str) -> list[int]:
    async with db.reader.connect() as conn:
        return [int(str(entry["seq"])) for entry in await access_entries(conn, person)]


async def searched(db: Database, person: str) -> list[int]:
    """The audit search by customer (the other reader of the index), oldest first."""
    from gateway.compliance.reads import _events_query

    query = _events_query({"customer_id": person}, None, 10_000, newest_first=False)
    async with db.reader.connect() as conn:
        return [int(row.seq) for row in (await conn.execute(query)).all()]


async def watermark(db: Database) -> tuple[int, int]:
    async with db.reader.connect() as conn:
        size, indexed = (await conn.execute(select(audit_tree.c.size, audit_tree.c.indexed))).one()
    return int(size), int(indexed)


@pytest.fixture(params=MIGRATION_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("writer", ["group-commit", "sql-layer"])
def test_given_reads_of_many_people_then_every_report_is_exact_at_every_moment(
    backend: str, writer: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = empty_store_settings(backend, tmp_path, request)

    async def scenario() -> None:
        db = create_database(settings)
        await upgrade_to_head(db.writer)
        appender = GroupCommitAppender(
            db.writer,
            max_batch=4,
            sync_engine=db.audit_writer,
            pg_transaction=None if db.audit_fast is None else db.audit_fast.transaction,
        )
        appender.start()
        expected: dict[str, list[int]] = {person: [] for person in PEOPLE}
        indexed_seen: set[int] = set()
        try:
            n = 0
            while n < 2 * BULK_BACKLOG + 10:
                group = [read_of(n + k, subjects_of(n + k)) for k in range(3)]
                if writer == "group-commit":
                    seqs = list(await asyncio.gather(*(appender.append(e) for e in group)))
                else:
                    async with db.writer.begin() as conn:
                        seqs = await append_entries(conn, group)
                for entry, seq in zip(group, seqs, strict=True):
                    for person in dict.fromkeys(entry.subject_ids):
                        expected[person].append(seq)
                n += len(group)
                size, indexed = await watermark(db)
                indexed_seen.add(indexed)
                assert size == n
                assert size - indexed < BULK_BACKLOG + len(group)
                for person in (PEOPLE[n % len(PEOPLE)], PEOPLE[(n * 3) % len(PEOPLE)]):
                    assert await reported(db, person) == sorted(expected[person])
            for person in PEOPLE:
                assert await reported(db, person) == sorted(expected[person])
                assert await searched(db, person) == sorted(expected[person])
            # The index did move in bulk, and it holds each (person, entry) once.
            assert len(indexed_seen) >= 2
            size, indexed = await watermark(db)
            async with db.reader.connect() as conn:
                rows = set((await conn.execute(select(audit_subjects))).all())
            for person, seqs in expected.items():
                assert {(person, s) for s in seqs if s < indexed} <= rows
        finally:
            await appender.close()
            await db.dispose()
        for statement in ("UPDATE audit_subjects SET seq = seq", "DELETE FROM audit_subjects"):
            with pytest.raises(DBAPIError, match="append-only"):
                await execute(settings, statement)

    asyncio.run(scenario())


def test_given_unindexed_entries_when_downgraded_then_the_index_is_complete(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Below 0012 readers trust the index alone: the downgrade indexes what was owed."""
    settings = empty_store_settings(backend, tmp_path, request)

    async def scenario() -> None:
        await upgrade_to(settings, "head")
        db = create_database(settings)
        try:
            entries = [read_of(n, subjects_of(n)) for n in range(6)]
            async with db.writer.begin() as conn:
                seqs = await append_entries(conn, entries)
            size, indexed = await watermark(db)
            assert (size, indexed) == (6, 1), "the first page and all after it are owed"
            async with db.reader.connect() as conn:
                before = (
                    await conn.execute(select(func.count()).select_from(audit_subjects))
                ).scalar()
        finally:
            await db.dispose()
        await downgrade_to(settings, "0011")
        stored = await execute(settings, "SELECT subject_id, seq FROM audit_subjects")
        rows = {(str(row[0]), int(row[1])) for row in stored}
        assert rows == {
            (p, seq) for e, seq in zip(entries, seqs, strict=True) for p in e.subject_ids
        }
        assert before == 2, "only the two single reads were indexed with themselves"
        await upgrade_to(settings, "head")
        assert [
            tuple(row) for row in await execute(settings, "SELECT size, indexed FROM audit_tree")
        ] == [(6, 6)]

    asyncio.run(scenario())
