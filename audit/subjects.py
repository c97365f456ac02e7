"""The subject index: which entries concern a person, for the "who read my data" report.

An entry about a few people is indexed with itself: its `audit_subjects` rows commit in
its batch. An entry about more (a page of a list read) is not: its 100 rows would land
on 100 leaf pages of the (subject_id, seq) key, each written to the WAL at commit, which
was ~80% of a page's audit cost. Those entries are indexed later by the writer's own
batches, once `BULK_BACKLOG` entries have gathered above the watermark
(`audit_tree.indexed`): their rows sorted and inserted together, so entries about the
same people share leaf pages. The watermark moves in the same transaction.

Readers stay exact at every moment: `entries_about` is the index below the watermark
united with a scan of the `subject_ids` every entry carries above it (a bounded tail).
Both tables stay append-only: rows are only ever inserted, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, CompoundSelect, bindparam, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import Boolean

from audit.schema import audit_events, audit_subjects, audit_tree

INLINE_SUBJECTS = 8
"""An entry about at most this many people is indexed with itself (a single read's one
row costs less than the bookkeeping); an entry about more is indexed in bulk later."""

BULK_BACKLOG = 128
"""Entries above the watermark before a batch indexes them: the tail readers scan is at
most this plus one batch. Writer CPU per 100-subject entry (2,000 customers): 64 → 0.87
ms, 128 → 0.6–0.77, 256 → 0.5 (1.9 inline); the batch that indexes also commits later by
that much, so 128."""


def indexed_with_entry(subject_ids: Sequence[str]) -> bool:
    return len(subject_ids) <= INLINE_SUBJECTS


def unique(subject_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(subject_ids))


def bulk_rows(entries: Iterable[tuple[int, object]]) -> list[tuple[str, int]]:
    """The index rows still owed for entries above the watermark, in key order: only the
    entries about many people (the others were indexed with themselves). `subject_ids`
    as the store returns it: JSON text (SQLite, asyncpg) or an already decoded list."""
    rows: list[tuple[str, int]] = []
    for seq, stored in entries:
        subject_ids = orjson.loads(stored) if isinstance(stored, str | bytes) else stored
        assert isinstance(subject_ids, list)  # noqa: S101 - JSON array column of the schema
        if not indexed_with_entry(subject_ids):
            rows.extend((subject, seq) for subject in unique(subject_ids))
    rows.sort()
    return rows


def bulk_due(size: int, indexed: int) -> bool:
    """Whether a batch that leaves the log at `size` indexes everything above `indexed`."""
    return size - indexed >= BULK_BACKLOG


class _JsonArrayHas(ColumnElement[bool]):
    """`array` (a JSON array column) has the string `value` as an element."""

    type = Boolean()
    inherit_cache = True

    def __init__(self, array: ColumnElement[Any], value: ColumnElement[Any]) -> None:
        self.array = array
        self.value = value


@compiles(_JsonArrayHas)
@compiles(_JsonArrayHas, "sqlite")
def _has_sqlite(element: _JsonArrayHas, compiler: Any, **kw: Any) -> str:
    array = compiler.process(element.array, **kw)
    value = compiler.process(element.value, **kw)
    return f"EXISTS (SELECT 1 FROM json_each({array}) WHERE json_each.value = {value})"  # noqa: S608 - compiled SQL fragments, no values


@compiles(_JsonArrayHas, "postgresql")
def _has_postgresql(element: _JsonArrayHas, compiler: Any, **kw: Any) -> str:
    array = compiler.process(element.array, **kw)
    value = compiler.process(element.value, **kw)
    return f"(CAST({array} AS JSONB) @> jsonb_build_array(CAST({value} AS TEXT)))"


def entries_about(subject_id: str) -> CompoundSelect[tuple[int]]:
    """The sequence numbers of every entry about `subject_id`: the index, and the entries
    above its watermark that name the person (for one statement, so one snapshot)."""
    subject: BindParameter[str] = bindparam("about_subject", subject_id)
    tail = audit_events.alias("unindexed")
    watermark = select(audit_tree.c.indexed).where(audit_tree.c.id == 1).scalar_subquery()
    return union(
        select(audit_subjects.c.seq).where(audit_subjects.c.subject_id == subject),
        select(tail.c.seq).where(
            tail.c.seq >= watermark, _JsonArrayHas(tail.c.subject_ids, subject)
        ),
    )
