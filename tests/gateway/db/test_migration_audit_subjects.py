"""Migration 0011: `audit_subjects` becomes a WITHOUT ROWID table on SQLite.

A store at revision 0010 with audited reads of several subjects is upgraded on SQLite
and on PostgreSQL (where the migration changes nothing); afterwards every subject row is
still there, the access report still lists every read of a subject, the table is still
append-only, and new entries are indexed by subject as before. Downgrading keeps the rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from audit import AuditEntry, Outcome
from audit.store import append_entries
from gateway.compliance.reads import access_entries
from gateway.db.engine import create_database
from gateway.settings import Settings
from tests.helpers.migrations import (
    MIGRATION_BACKENDS,
    downgrade_to,
    empty_store_settings,
    execute,
    upgrade_to,
)

SUBJECTS = tuple(f"cus_{n:026d}" for n in range(6))


def _read(n: int, subjects: tuple[str, ...]) -> AuditEntry:
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=f"req-{n}",
        action="customers.list",
        outcome=Outcome.ALLOWED,
        status=200,
        entity="customers",
        record_ids=subjects,
        subject_ids=subjects,
    )


async def _append(settings: Settings, entries: list[AuditEntry]) -> list[int]:
    db = create_database(settings)
    try:
        async with db.writer.begin() as conn:
            return await append_entries(conn, entries)
    finally:
        await db.dispose()


async def _subject_rows(settings: Settings) -> set[tuple[str, int]]:
    rows = await execute(settings, "SELECT subject_id, seq FROM audit_subjects")
    return {(str(row[0]), int(row[1])) for row in rows}


async def _accessed_seqs(settings: Settings, subject: str) -> list[int]:
    db = create_database(settings)
    try:
        async with db.reader.connect() as conn:
            return [int(str(entry["seq"])) for entry in await access_entries(conn, subject)]
    finally:
        await db.dispose()


@pytest.fixture(params=MIGRATION_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_given_store_at_0010_when_upgraded_then_every_read_of_a_subject_is_still_indexed(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = empty_store_settings(backend, tmp_path, request)

    async def scenario() -> None:
        # Overlapping pages, and one entry naming a subject twice (indexed once). Written
        # by today's writer and taken down to 0010 (a 0010 writer is not kept): the rows
        # are what a 0010 store holds, checked below.
        await upgrade_to(settings, "head")
        old = [_read(0, SUBJECTS[:4]), _read(1, SUBJECTS[2:]), _read(2, (SUBJECTS[5],) * 2)]
        assert await _append(settings, old) == [0, 1, 2]
        await downgrade_to(settings, "0010")
        before = await _subject_rows(settings)
        assert before == {
            *((s, 0) for s in SUBJECTS[:4]),
            *((s, 1) for s in SUBJECTS[2:]),
            (SUBJECTS[5], 2),
        }

        await upgrade_to(settings, "head")

        assert await _subject_rows(settings) == before
        assert await _accessed_seqs(settings, SUBJECTS[3]) == [0, 1]
        assert await _accessed_seqs(settings, SUBJECTS[5]) == [1, 2]
        assert await _append(settings, [_read(3, SUBJECTS[:1])]) == [3]
        assert await _accessed_seqs(settings, SUBJECTS[0]) == [0, 3]
        if backend == "sqlite":
            (ddl,) = await execute(
                settings, "SELECT sql FROM sqlite_master WHERE name = 'audit_subjects'"
            )
            assert "WITHOUT ROWID" in str(ddl[0])
        for statement in ("UPDATE audit_subjects SET seq = seq", "DELETE FROM audit_subjects"):
            with pytest.raises(DBAPIError, match="append-only"):
                await execute(settings, statement)

        await downgrade_to(settings, "0010")
        assert await _subject_rows(settings) == before | {(SUBJECTS[0], 3)}
        for statement in ("UPDATE audit_subjects SET seq = seq", "DELETE FROM audit_subjects"):
            with pytest.raises(DBAPIError, match="append-only"):
                await execute(settings, statement)

    asyncio.run(scenario())
