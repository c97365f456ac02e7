"""Appending entries to the log: sequence numbers, leaf hashes and the tree state.

The caller owns the transaction, so a write and its entry commit together. The tree
state row is read and updated in the same transaction — locked with FOR UPDATE on
PostgreSQL, and under SQLite's write lock (the writer begins IMMEDIATE) — so appends
from any number of workers or processes form one log with no gaps and no forks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import orjson
from sqlalchemy import JSON, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.admission import Admission, admit_asyncpg, admit_sql, admit_sqlite
from audit.canonical import canonical_entry
from audit.entry import AuditEntry
from audit.merkle import Frontier, leaf_hash
from audit.schema import audit_events, audit_subjects, audit_tree
from audit.subjects import bulk_due, bulk_rows, indexed_with_entry, unique


class AuditWriteError(Exception):
    """The entry could not be written: the request it describes must fail (fail closed)."""


def entry_row(entry: AuditEntry) -> dict[str, object]:
    return {
        "occurred_at": entry.occurred_at.isoformat(timespec="microseconds"),
        "request_id": entry.request_id,
        "principal_id": entry.principal_id,
        "on_behalf_of": entry.on_behalf_of,
        "purpose": entry.purpose,
        "legal_basis": entry.legal_basis,
        "action": entry.action,
        "entity": entry.entity,
        "record_ids": list(entry.record_ids),
        "subject_ids": list(entry.subject_ids),
        "fields": dict(entry.fields),
        "policy_version": entry.policy_version,
        "outcome": entry.outcome.value,
        "status": entry.status,
        "reason": entry.reason,
        "classification": (
            None
            if entry.classification is None
            else {name: dict(counts) for name, counts in entry.classification.items()}
        ),
    }


async def read_tree(conn: AsyncConnection, *, lock: bool = False) -> Frontier:
    query = _READ_TREE
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return _tree_from((await conn.execute(query)).scalar_one_or_none())


async def _read_tree_and_watermark(conn: AsyncConnection) -> tuple[Frontier, int]:
    query = select(audit_tree.c.frontier, audit_tree.c.indexed).where(audit_tree.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    state = (await conn.execute(query)).one_or_none()
    return _tree_from(None if state is None else state[0]), 0 if state is None else state[1]


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """Rows to insert and the new tree head for a batch appended to `frontier`, with the
    subject index rows the batch writes and the index watermark it leaves."""

    events: list[dict[str, object]]
    subjects: list[tuple[str, int]]
    frontier: Frontier
    indexed: int

    @property
    def seqs(self) -> list[int]:
        return [cast("int", row["seq"]) for row in self.events]


def prepare_batch(
    frontier: Frontier,
    entries: Sequence[AuditEntry],
    indexed: int,
    unindexed: Iterable[tuple[int, object]] | None = None,
) -> PreparedBatch:
    """`indexed` is the stored watermark. With `unindexed` (the `(seq, subject_ids)` of
    the entries from the watermark up to this batch, read under the write lock), the
    batch indexes everything still owed and the watermark moves to the new size;
    `bulk_due` says when the caller should read them."""
    rows: list[dict[str, object]] = []
    subjects: list[tuple[str, int]] = []
    owed: list[tuple[int, object]] = []
    first_owed: int | None = None
    for entry in entries:
        seq = frontier.size
        row = entry_row(entry)
        row["seq"] = seq
        digest = leaf_hash(canonical_entry(row))
        # Straight out of SHA-256: the length check of `append` has nothing to catch.
        frontier.append_trusted(digest)
        row["leaf_hash"] = digest.hex()
        rows.append(row)
        if indexed_with_entry(entry.subject_ids):
            subjects.extend((s, seq) for s in unique(entry.subject_ids))
        else:
            owed.append((seq, list(entry.subject_ids)))
            if first_owed is None:
                first_owed = seq
    if unindexed is not None:
        subjects.extend(bulk_rows([*unindexed, *owed]))
        indexed = frontier.size
    elif indexed == frontier.size - len(rows):
        # Nothing owed below this batch: the watermark follows it up to its first owed entry.
        indexed = frontier.size if first_owed is None else first_owed
    return PreparedBatch(rows, subjects, frontier, indexed)


_READ_TREE = select(audit_tree.c.frontier).where(audit_tree.c.id == 1)


def _tree_from(state: object) -> Frontier:
    if state is None:
        msg = "the audit tree state is missing (run `wardgate db upgrade`)"
        raise AuditWriteError(msg)
    assert isinstance(state, dict)  # noqa: S101 - JSON column of the schema
    return Frontier.from_json(state)


def _tree_update(batch: PreparedBatch) -> Any:
    return (
        update(audit_tree)
        .where(audit_tree.c.id == 1)
        .values(size=batch.frontier.size, frontier=batch.frontier.to_json(), indexed=batch.indexed)
    )


_UNINDEXED = select(audit_events.c.seq, audit_events.c.subject_ids).order_by(audit_events.c.seq)


async def append_entries(
    conn: AsyncConnection,
    entries: Sequence[AuditEntry],
    admissions: Sequence[Admission | None] = (),
) -> list[int]:
    """Append entries inside the caller's transaction; return their sequence numbers.
    `admissions` (none, or one per entry) are decided first, under the tree's lock."""
    frontier, indexed = await _read_tree_and_watermark(conn)
    entries = await admit_sql(conn, entries, admissions)
    unindexed = None
    if bulk_due(frontier.size + len(entries), indexed):
        query = _UNINDEXED.where(audit_events.c.seq >= indexed)
        unindexed = [(seq, ids) for seq, ids in (await conn.execute(query)).all()]
    batch = prepare_batch(frontier, entries, indexed, unindexed)
    await conn.execute(insert(audit_events), batch.events)
    if batch.subjects:
        await conn.execute(
            insert(audit_subjects), [{"subject_id": s, "seq": q} for s, q in batch.subjects]
        )
    await conn.execute(_tree_update(batch))
    return batch.seqs


async def append_entry(conn: AsyncConnection, entry: AuditEntry) -> int:
    """Insert one entry inside the caller's transaction and return its sequence number."""
    (seq,) = await append_entries(conn, [entry])
    return seq


_EVENT_COLUMNS = tuple(column.name for column in audit_events.c)
_INSERT_EVENTS_SQL = (
    f"INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)}) "  # noqa: S608 - schema names
    f"VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)})"
)
_JSON_COLUMNS = frozenset(c.name for c in audit_events.c if isinstance(c.type, JSON))
_EVENT_COLUMN_KINDS = tuple((name, name in _JSON_COLUMNS) for name in _EVENT_COLUMNS)
"""Each column of the INSERT in order, and whether its value is stored as JSON text."""


def _canonical_json(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _event_values(row: Mapping[str, object]) -> tuple[object, ...]:
    """An entry's row in the INSERT's column order, JSON columns as canonical text (as the
    writer engine stores them): the raw SQLite and asyncpg batches alike."""
    return tuple(
        _canonical_json(value) if is_json and value is not None else value
        for name, is_json in _EVENT_COLUMN_KINDS
        for value in (row[name],)
    )


_UNINDEXED_SQL = "SELECT seq, subject_ids FROM audit_events WHERE seq >= ? ORDER BY seq"
"""The entries from the index watermark on, for the batch that indexes them (raw drivers)."""
_UNINDEXED_PG = "SELECT seq, subject_ids::text FROM audit_events WHERE seq >= $1 ORDER BY seq"


class SqliteTreeCache:
    """The tree state this writer last committed, kept across batches.

    Each batch still reads the stored state under the write lock (another process may
    have appended since); only when that text is exactly what this writer wrote is the
    decoded frontier reused instead of parsing and re-checking up to 64 hashes again."""

    __slots__ = ("_frontier", "_stored")

    def __init__(self) -> None:
        self._stored: str | None = None
        self._frontier: Frontier | None = None

    def frontier(self, stored: str | None) -> Frontier:
        if stored is not None and stored == self._stored and self._frontier is not None:
            return self._frontier.copy()
        return _tree_from(orjson.loads(stored) if stored is not None else None)

    def committed(self, stored: str, frontier: Frontier) -> None:
        self._stored, self._frontier = stored, frontier

    def forget(self) -> None:
        self._stored, self._frontier = None, None


def read_tree_sqlite(raw: Any) -> Frontier:
    """The stored tree head on a raw sqlite3 connection (the caller's transaction)."""
    state = raw.execute("SELECT frontier FROM audit_tree WHERE id = 1").fetchone()
    return _tree_from(orjson.loads(state[0]) if state is not None else None)


def append_entries_sqlite(
    raw: Any,
    entries: Sequence[AuditEntry],
    tree: SqliteTreeCache,
    admissions: Sequence[Admission | None] = (),
) -> list[int]:
    """The group commit's batch on a raw sqlite3 connection in the writer thread: the
    same statements as `append_entries`, without the per-row work of the SQL layer.
    The caller's connection is in autocommit mode; the transaction is ours."""
    cursor = raw.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    try:
        state = cursor.execute("SELECT frontier, indexed FROM audit_tree WHERE id = 1").fetchone()
        frontier = tree.frontier(state[0] if state else None)
        indexed = state[1]
        entries = admit_sqlite(cursor, entries, admissions)
        unindexed = None
        if bulk_due(frontier.size + len(entries), indexed):
            unindexed = cursor.execute(_UNINDEXED_SQL, (indexed,)).fetchall()
        batch = prepare_batch(frontier, entries, indexed, unindexed)
        cursor.executemany(_INSERT_EVENTS_SQL, [_event_values(row) for row in batch.events])
        if batch.subjects:
            cursor.executemany(
                "INSERT INTO audit_subjects (subject_id, seq) VALUES (?, ?)", batch.subjects
            )
        stored = _canonical_json(batch.frontier.to_json())
        cursor.execute(
            "UPDATE audit_tree SET size = ?, frontier = ?, indexed = ? WHERE id = 1",
            (batch.frontier.size, stored, batch.indexed),
        )
        cursor.execute("COMMIT")
    except BaseException:
        tree.forget()
        cursor.execute("ROLLBACK")
        raise
    finally:
        cursor.close()
    tree.committed(stored, batch.frontier)
    return batch.seqs


_SUBJECT_COLUMNS = ("subject_id", "seq")


@cache
def _append_batch_pg() -> str:
    """One statement that writes a whole batch: the entries and their subjects from one
    array per column (`unnest`) and the new tree head, in data-modifying CTEs. One round
    trip instead of one per table (and no per-row statement), in the batch's
    transaction. Built at first use: the SQLite-only path never loads the dialect."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]

    def array_type(column: Any) -> str:
        # Without the length: an explicit cast to VARCHAR(n) truncates silently, while
        # the INSERT's own assignment to the column refuses an over-long value, as before.
        return f"{column.type.compile(dialect=dialect).partition('(')[0]}[]"

    first_subject = len(_EVENT_COLUMNS) + 1
    size = first_subject + len(_SUBJECT_COLUMNS)
    event_arrays = ", ".join(
        f"${n}::{array_type(audit_events.c[name])}"
        for n, name in enumerate(_EVENT_COLUMNS, start=1)
    )
    subject_arrays = ", ".join(
        f"${n}::{array_type(audit_subjects.c[name])}"
        for n, name in enumerate(_SUBJECT_COLUMNS, start=first_subject)
    )
    return (
        f"WITH events AS (INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)}) "  # noqa: S608 - schema names
        f"SELECT * FROM unnest({event_arrays})), "
        f"subjects AS (INSERT INTO audit_subjects ({', '.join(_SUBJECT_COLUMNS)}) "
        f"SELECT * FROM unnest({subject_arrays})) "
        f"UPDATE audit_tree SET size = ${size}, frontier = ${size + 1}, indexed = ${size + 2} "
        "WHERE id = 1"
    )


_READ_TREE_FOR_UPDATE_PG = "SELECT frontier, indexed FROM audit_tree WHERE id = 1 FOR UPDATE"


async def append_entries_asyncpg(
    conn: Any, entries: Sequence[AuditEntry], admissions: Sequence[Admission | None] = ()
) -> list[int]:
    """The group commit's batch on an asyncpg connection, inside the caller's transaction:
    the same rows as `append_entries` (JSON columns as canonical text, as the writer
    engine stores them), in two round trips. The tree row is locked FOR UPDATE, so
    appends from every process form one log."""
    state = await conn.fetchrow(_READ_TREE_FOR_UPDATE_PG)
    frontier = _tree_from(orjson.loads(state[0]) if state else None)
    indexed = state[1]
    entries = await admit_asyncpg(conn, entries, admissions)
    unindexed = None
    if bulk_due(frontier.size + len(entries), indexed):
        unindexed = [(seq, ids) for seq, ids in await conn.fetch(_UNINDEXED_PG, indexed)]
    batch = prepare_batch(frontier, entries, indexed, unindexed)
    rows = [_event_values(row) for row in batch.events]
    event_columns = [[row[i] for row in rows] for i in range(len(_EVENT_COLUMNS))]
    await conn.execute(
        _append_batch_pg(),
        *event_columns,
        [s for s, _ in batch.subjects],
        [q for _, q in batch.subjects],
        batch.frontier.size,
        _canonical_json(batch.frontier.to_json()),
        batch.indexed,
    )
    return batch.seqs
