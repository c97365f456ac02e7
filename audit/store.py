"""Appending entries to the log: sequence numbers, leaf hashes and the tree state.

The caller owns the transaction, so a write and its entry commit together. The tree
state row is read and updated in the same transaction — locked with FOR UPDATE on
PostgreSQL, and under SQLite's write lock (the writer begins IMMEDIATE) — so appends
from any number of workers or processes form one log with no gaps and no forks.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.canonical import canonical_entry
from audit.entry import AuditEntry
from audit.merkle import Frontier, leaf_hash
from audit.schema import audit_events, audit_subjects, audit_tree


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
    }


async def read_tree(conn: AsyncConnection, *, lock: bool = False) -> Frontier:
    query = select(audit_tree.c.frontier).where(audit_tree.c.id == 1)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    state = (await conn.execute(query)).scalar_one_or_none()
    if state is None:
        msg = "the audit tree state is missing (run `wardgate db upgrade`)"
        raise AuditWriteError(msg)
    return Frontier.from_json(state)


async def append_entries(conn: AsyncConnection, entries: Sequence[AuditEntry]) -> list[int]:
    """Append entries inside the caller's transaction; return their sequence numbers."""
    frontier = await read_tree(conn, lock=True)
    rows: list[dict[str, object]] = []
    subjects: list[dict[str, object]] = []
    for entry in entries:
        seq = frontier.size
        row = entry_row(entry) | {"seq": seq}
        digest = leaf_hash(canonical_entry(row))
        frontier.append(digest)
        rows.append(row | {"leaf_hash": digest.hex()})
        subjects.extend({"subject_id": s, "seq": seq} for s in dict.fromkeys(entry.subject_ids))
    await conn.execute(insert(audit_events), rows)
    if subjects:
        await conn.execute(insert(audit_subjects), subjects)
    await conn.execute(
        update(audit_tree)
        .where(audit_tree.c.id == 1)
        .values(size=frontier.size, frontier=frontier.to_json())
    )
    return [int(str(row["seq"])) for row in rows]


async def append_entry(conn: AsyncConnection, entry: AuditEntry) -> int:
    """Insert one entry inside the caller's transaction and return its sequence number."""
    (seq,) = await append_entries(conn, [entry])
    return seq
