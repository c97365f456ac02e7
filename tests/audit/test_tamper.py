"""Tampering with the audit log, as an attacker with database access would, is detected.

Every case runs on SQLite and on the real PostgreSQL. Each builds a fresh store
(`wardgate init --demo`, 5 customers), appends 30 entries and signs two checkpoints
(at 16 and 31 entries), drops the append-only triggers the way anyone holding the
database's credentials can, tampers, and runs `verify_store` — which must fail and
name the first bad sequence number.

What the verifier can pinpoint, and what it cannot:

- An edited, deleted, reordered or replayed entry whose stored leaf hash was left
  alone: exactly that entry (the sequence number is part of every hashed entry, so a
  row moved to another position no longer matches its leaf hash either).
- An edited entry whose leaf hash was rewritten to match (and the tree head with it):
  only through the signed checkpoint root, so the report names the start of the
  range after the last checkpoint that still matched — at or before the edit, never
  after it. Nothing stored can say which entry in that range changed.
- A forged entry inserted with a self-consistent leaf hash by renumbering the rest:
  the forged row itself passes; the first displaced genuine entry (one after it) is
  named.
- Truncation: the first missing sequence number, as long as a stored checkpoint covers
  more entries than remain. Delete the checkpoints as well and the store cannot vouch
  for itself — a checkpoint held outside the database (an auditor's copy) still
  catches it. Likewise a consistent rewrite of entries not yet covered by any
  checkpoint is indistinguishable from a genuine append.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import AuditEntry, Outcome
from audit.canonical import ENTRY_FIELDS, canonical_entry
from audit.checkpoint import Checkpoint, open_signed_checkpoint
from audit.merkle import Frontier, leaf_hash
from audit.schema import (
    APPEND_ONLY_TABLES,
    audit_checkpoints,
    audit_events,
    audit_tree,
    postgres_drop_triggers,
    sqlite_drop_triggers,
)
from audit.store import append_entries, entry_row
from audit.verify import LogVerifier, VerifyReport
from gateway.compliance.checkpoints import CheckpointIssuer, log_signer
from gateway.compliance.log_reader import snapshot, stream_entries, verify_store
from gateway.db.engine import Database, create_database
from gateway.db.init_store import init_store
from gateway.db.opening import open_keystore
from gateway.settings import Settings
from keys.signing import NoteSigner

FIRST_CHECKPOINT = 16  # init's own entry (seq 0) and 15 appended
SIZE = 31  # ... and 15 more, covered by the second checkpoint

Tamper = Callable[[AsyncConnection], Awaitable[None]]


def entry(n: int) -> AuditEntry:
    customer = f"cus_{n:026d}"
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=f"req-{n:04d}",
        action="customers.read" if n % 3 else "customers.list",
        outcome=Outcome.ALLOWED if n % 4 else Outcome.DENIED,
        status=200 if n % 4 else 403,
        principal_id="support-desk",
        on_behalf_of=f"agent-{n:04d}" if n % 2 else None,
        purpose="customer_service",
        legal_basis="contract",
        entity="customers",
        record_ids=(customer,),
        subject_ids=(customer,),
        fields={"phone": "masked", "notes": "withheld:denied"} if n % 4 else {},
        policy_version=1,
        reason=None if n % 4 else "purpose_not_allowed",
    )


async def _signer(settings: Settings, db: Database) -> NoteSigner:
    _, system_keys = await open_keystore(settings, db)
    return log_signer(system_keys.audit_signing)


async def _build(settings: Settings) -> None:
    await init_store(settings, demo=True, customers=5)
    db = create_database(settings)
    try:
        issuer = CheckpointIssuer(db.writer, await _signer(settings, db))
        for first in (1, FIRST_CHECKPOINT):
            async with db.writer.begin() as conn:
                await append_entries(conn, [entry(n) for n in range(first, first + 15)])
            await issuer.issue()
    finally:
        await db.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A fresh store whose log holds 31 entries under checkpoints at 16 and 31."""
    settings = Settings(data_dir=tmp_path / "data")
    if request.param == "postgres":
        make_database = request.getfixturevalue("postgres_url_factory")
        settings = settings.with_overrides(
            database_url=make_database(), keystore_url=make_database()
        )
    asyncio.run(_build(settings))
    return settings


async def _drop_triggers(conn: AsyncConnection) -> None:
    sqlite = conn.dialect.name == "sqlite"
    for table in APPEND_ONLY_TABLES:
        for statement in sqlite_drop_triggers(table) if sqlite else postgres_drop_triggers(table):
            await conn.execute(text(statement))


def tamper_and_verify(settings: Settings, tamper: Tamper | None) -> VerifyReport:
    async def run() -> VerifyReport:
        db = create_database(settings)
        try:
            verifier = (await _signer(settings, db)).verifier()
            async with db.writer.begin() as conn:
                await _drop_triggers(conn)
            if tamper is not None:
                async with db.writer.begin() as conn:
                    await tamper(conn)
            report, _ = await verify_store(db, verifier)
            return report
        finally:
            await db.dispose()

    return asyncio.run(run())


# --- what an attacker does with the rows ---------------------------------------------


async def _row(conn: AsyncConnection, seq: int) -> dict[str, Any]:
    row = (await conn.execute(select(audit_events).where(audit_events.c.seq == seq))).one()
    return dict(row._mapping)


def _leaf_of(row: dict[str, Any]) -> str:
    return leaf_hash(canonical_entry({name: row[name] for name in ENTRY_FIELDS})).hex()


async def _set(conn: AsyncConnection, seq: int, **values: object) -> None:
    await conn.execute(update(audit_events).where(audit_events.c.seq == seq).values(**values))


async def _rehash(conn: AsyncConnection, seq: int) -> None:
    """Rewrite the stored leaf hash so the (edited) entry matches it again."""
    await _set(conn, seq, leaf_hash=_leaf_of(await _row(conn, seq)))


async def _rewrite_tree_head(conn: AsyncConnection) -> None:
    """Recompute the (unsigned) tree state from the stored leaf hashes."""
    leaves = (
        await conn.execute(select(audit_events.c.leaf_hash).order_by(audit_events.c.seq))
    ).scalars()
    frontier = Frontier()
    frontier.extend(bytes.fromhex(value) for value in leaves)
    await conn.execute(
        update(audit_tree)
        .where(audit_tree.c.id == 1)
        .values(size=frontier.size, frontier=frontier.to_json())
    )


async def _shift_up(conn: AsyncConnection, first: int) -> None:
    """Renumber entries `first`.. one up (through negatives: the primary key is checked per row)."""
    await conn.execute(
        update(audit_events)
        .where(audit_events.c.seq >= first)
        .values(seq=-audit_events.c.seq - 1000)
    )
    await conn.execute(
        update(audit_events).where(audit_events.c.seq < 0).values(seq=-audit_events.c.seq - 999)
    )


async def _insert_forged(conn: AsyncConnection, seq: int) -> None:
    """A made-up entry at `seq`, hashed exactly as the log would have hashed it."""
    forged = entry_row(entry(900)) | {"seq": seq, "principal_id": "attacker"}
    await conn.execute(insert(audit_events).values(forged | {"leaf_hash": _leaf_of(forged)}))


def edit_action(seq: int) -> Tamper:
    async def tamper(conn: AsyncConnection) -> None:
        await _set(conn, seq, action="customers.export")

    return tamper


def edit_fields(seq: int) -> Tamper:
    async def tamper(conn: AsyncConnection) -> None:
        await _set(conn, seq, fields={"phone": "clear", "notes": "clear"})

    return tamper


def edit_status(seq: int) -> Tamper:
    async def tamper(conn: AsyncConnection) -> None:
        await _set(conn, seq, status=200, outcome="allowed")

    return tamper


def edit_and_rehash(seq: int, *, tree_head: bool) -> Tamper:
    async def tamper(conn: AsyncConnection) -> None:
        original = await _row(conn, seq)
        assert _leaf_of(original) == original["leaf_hash"], "the attacker hashes as the log does"
        await _set(conn, seq, principal_id="someone-else", fields={"phone": "clear"})
        await _rehash(conn, seq)
        if tree_head:
            await _rewrite_tree_head(conn)

    return tamper


def delete_entry(seq: int) -> Tamper:
    async def tamper(conn: AsyncConnection) -> None:
        await conn.execute(delete(audit_events).where(audit_events.c.seq == seq))

    return tamper


def swap(first: int, second: int) -> Tamper:
    """Exchange every column but seq (leaf hashes included) of two entries."""

    async def tamper(conn: AsyncConnection) -> None:
        a, b = await _row(conn, first), await _row(conn, second)
        await _set(conn, first, **{k: v for k, v in b.items() if k != "seq"})
        await _set(conn, second, **{k: v for k, v in a.items() if k != "seq"})

    return tamper


def insert_at(seq: int) -> Tamper:
    async def tamper(conn: AsyncConnection) -> None:
        await _insert_forged(conn, seq)

    return tamper


def replay_into(seq: int) -> Tamper:
    """Renumber entries seq.. up by one and put a copy of entry seq - 1 (its hash too) at seq."""

    async def tamper(conn: AsyncConnection) -> None:
        copy = await _row(conn, seq - 1)
        await _shift_up(conn, seq)
        await conn.execute(insert(audit_events).values(copy | {"seq": seq}))

    return tamper


def forge_into(seq: int, *, rehash_rest: bool) -> Tamper:
    """Renumber entries seq.. up by one and insert a forged, self-consistent entry at seq."""

    async def tamper(conn: AsyncConnection) -> None:
        await _shift_up(conn, seq)
        await _insert_forged(conn, seq)
        if rehash_rest:
            for moved in range(seq + 1, SIZE + 1):
                await _rehash(conn, moved)
            await _rewrite_tree_head(conn)

    return tamper


def truncate_from(seq: int) -> Tamper:
    async def tamper(conn: AsyncConnection) -> None:
        await conn.execute(delete(audit_events).where(audit_events.c.seq >= seq))

    return tamper


async def wipe(conn: AsyncConnection) -> None:
    sqlite = conn.dialect.name == "sqlite"
    await conn.execute(text("DELETE FROM audit_events" if sqlite else "TRUNCATE audit_events"))


@dataclass(frozen=True)
class Case:
    id: str
    tamper: Tamper
    first_bad_seq: int
    problem: str  # a regular expression the report's problem must match


CASES = [
    Case("edit-action", edit_action(7), 7, r"^entry 7 does not match its leaf hash"),
    Case("edit-fields-json", edit_fields(20), 20, r"^entry 20 does not match its leaf hash"),
    Case("edit-first-entry", edit_status(0), 0, r"^entry 0 does not match its leaf hash"),
    Case("edit-last-entry", edit_action(SIZE - 1), SIZE - 1, r"^entry 30 does not match"),
    # Leaf hash rewritten: caught by the checkpoint root, pinned to the range after the
    # last checkpoint that still matched (16 here, the edit is at 20; 0 for an edit at 5).
    Case(
        "edit-rehash-after-first-checkpoint",
        edit_and_rehash(20, tree_head=False),
        FIRST_CHECKPOINT,
        r"^tree of size 31 does not match its signed checkpoint$",
    ),
    Case(
        "edit-rehash-before-first-checkpoint",
        edit_and_rehash(5, tree_head=False),
        0,
        r"^tree of size 16 does not match its signed checkpoint$",
    ),
    Case(
        "edit-rehash-and-tree-head",
        edit_and_rehash(20, tree_head=True),
        FIRST_CHECKPOINT,
        r"^tree of size 31 does not match its signed checkpoint$",
    ),
    Case("delete", delete_entry(12), 12, r"^entry 12 is missing$"),
    Case("delete-first", delete_entry(0), 0, r"^entry 0 is missing$"),
    Case("reorder", swap(9, 23), 9, r"^entry 9 does not match its leaf hash"),
    Case("reorder-adjacent", swap(16, 17), 16, r"^entry 16 does not match its leaf hash"),
    # The primary key rules out a second row at a taken seq, so an insertion either goes
    # past the end, leaves a gap, goes below 0, or renumbers what follows it.
    Case(
        "insert-after-checkpoint",
        insert_at(SIZE),
        SIZE,
        r"^the stored tree head disagrees with the entries$",
    ),
    Case("insert-with-gap", insert_at(SIZE + 9), SIZE, r"^entry 31 is missing$"),
    Case("insert-negative-seq", insert_at(-1), 0, r"^entry 0 is out of order or inserted$"),
    Case("insert-replayed-by-renumbering", replay_into(10), 10, r"^entry 10 does not match"),
    # A forged entry with its own correct hash passes; the entry it displaced does not.
    Case(
        "insert-forged-by-renumbering",
        forge_into(10, rehash_rest=False),
        11,
        r"^entry 11 does not match its leaf hash",
    ),
    Case(
        "insert-forged-by-renumbering-and-rehashing",
        forge_into(20, rehash_rest=True),
        FIRST_CHECKPOINT,
        r"^tree of size 31 does not match its signed checkpoint$",
    ),
    Case(
        "truncate-tail",
        truncate_from(25),
        25,
        r"^log truncated: a checkpoint covers 31 entries, only 25 are present$",
    ),
    Case(
        "truncate-behind-first-checkpoint",
        truncate_from(10),
        10,
        r"^log truncated: a checkpoint covers 31 entries, only 10 are present$",
    ),
    Case("truncate-last-entry", truncate_from(SIZE - 1), SIZE - 1, r"^log truncated"),
    Case("wipe", wipe, 0, r"^log truncated: a checkpoint covers 31 entries, only 0 are present$"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_given_tampered_log_then_verify_fails_naming_first_bad_seq(
    settings: Settings, case: Case
) -> None:
    report = tamper_and_verify(settings, case.tamper)
    assert report.ok is False
    assert report.first_bad_seq == case.first_bad_seq, report.problem
    assert report.problem is not None
    assert re.search(case.problem, report.problem), report.problem


def test_given_untouched_log_then_verify_passes(settings: Settings) -> None:
    """The control: dropping the triggers alone changes nothing the verifier can see."""
    report = tamper_and_verify(settings, None)
    assert report.ok is True, report.problem
    assert report.entries == SIZE
    assert report.checkpoints_verified == 2
    assert report.latest_checkpoint == SIZE
    assert report.first_bad_seq is None
    assert report.problem is None


def test_given_edited_checkpoint_then_verify_fails(settings: Settings) -> None:
    async def tamper(conn: AsyncConnection) -> None:
        note = (
            await conn.execute(
                select(audit_checkpoints.c.note).where(audit_checkpoints.c.tree_size == SIZE)
            )
        ).scalar_one()
        forged = note.replace(f"\n{SIZE}\n", f"\n{SIZE - 1}\n", 1)
        assert forged != note
        await conn.execute(
            update(audit_checkpoints)
            .where(audit_checkpoints.c.tree_size == SIZE)
            .values(note=forged)
        )

    report = tamper_and_verify(settings, tamper)
    assert report.ok is False
    assert report.problem is not None
    assert report.problem.startswith("a stored checkpoint does not verify: invalid signature")


def test_given_rewound_log_with_checkpoints_deleted_then_only_a_held_checkpoint_catches_it(
    settings: Settings,
) -> None:
    """The store cannot vouch for itself once its checkpoints are gone: publish them."""

    async def held_checkpoint() -> str:
        db = create_database(settings)
        try:
            async with db.reader.connect() as conn:
                query = select(audit_checkpoints.c.note).where(
                    audit_checkpoints.c.tree_size == SIZE
                )
                return str((await conn.execute(query)).scalar_one())
        finally:
            await db.dispose()

    note = asyncio.run(held_checkpoint())  # an auditor's copy, taken before the attack

    async def rewind(conn: AsyncConnection) -> None:
        await conn.execute(delete(audit_checkpoints))
        await conn.execute(delete(audit_events).where(audit_events.c.seq >= 25))
        await _rewrite_tree_head(conn)

    report = tamper_and_verify(settings, rewind)
    assert report.ok is True, "nothing left in the store contradicts the rewound log"
    assert report.entries == 25

    async def offline() -> VerifyReport:
        db = create_database(settings)
        try:
            held = open_signed_checkpoint(note, (await _signer(settings, db)).verifier())
            assert isinstance(held, Checkpoint)
            log = LogVerifier([held])
            async with snapshot(db) as conn:
                async for seq, canonical, stored in stream_entries(conn):
                    if not log.feed(seq, canonical, stored):
                        break
            return log.finish()
        finally:
            await db.dispose()

    held_report = asyncio.run(offline())
    assert held_report.ok is False
    assert held_report.first_bad_seq == 25
    assert held_report.problem is not None
    assert "truncated" in held_report.problem


def test_given_consistent_rewrite_beyond_last_checkpoint_then_it_looks_like_an_append(
    settings: Settings,
) -> None:
    """Entries no checkpoint covers yet are only as safe as the database until the next one."""

    async def forge_tail(conn: AsyncConnection) -> None:
        await _insert_forged(conn, SIZE)
        await _rewrite_tree_head(conn)

    report = tamper_and_verify(settings, forge_tail)
    assert report.ok is True
    assert report.entries == SIZE + 1
    assert report.checkpoints_verified == 2


# --- the triggers that the attacks above had to drop first ------------------------------

_UPDATES = {
    "audit_events": "UPDATE audit_events SET status = status",
    "audit_subjects": "UPDATE audit_subjects SET seq = seq",
    "audit_checkpoints": "UPDATE audit_checkpoints SET note = note",
}


def _statements(table: str, sqlite: bool) -> Iterator[str]:
    yield _UPDATES[table]
    yield f"DELETE FROM {table}"  # noqa: S608 - fixed table names
    if not sqlite:
        yield f"TRUNCATE {table}"  # SQLite has no TRUNCATE


def test_given_append_only_triggers_then_update_delete_and_truncate_are_refused(
    settings: Settings,
) -> None:
    async def run() -> None:
        db = create_database(settings)
        try:
            counts: dict[str, int] = {}
            async with db.reader.connect() as conn:
                for table in APPEND_ONLY_TABLES:
                    query = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
                    counts[table] = int((await conn.execute(query)).scalar_one())
            assert all(counts.values()), counts  # row triggers only fire on existing rows
            for table in APPEND_ONLY_TABLES:
                for statement in _statements(table, db.is_sqlite):
                    with pytest.raises(DBAPIError, match="append-only"):
                        async with db.writer.begin() as conn:
                            await conn.execute(text(statement))
            async with db.reader.connect() as conn:
                for table, count in counts.items():
                    query = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
                    assert int((await conn.execute(query)).scalar_one()) == count
            # With the triggers dropped the same statements go through: the triggers were
            # the only thing in the way, which is why the log must be verifiable.
            async with db.writer.begin() as conn:
                await _drop_triggers(conn)
            async with db.writer.begin() as conn:
                for table in APPEND_ONLY_TABLES:
                    await conn.execute(text(_UPDATES[table]))
                count = await conn.execute(select(func.count()).select_from(audit_events))
                assert count.scalar_one() == SIZE
        finally:
            await db.dispose()

    asyncio.run(run())
