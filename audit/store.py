"""Appending entries. The caller owns the transaction, so a write and its entry commit together."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.entry import AuditEntry
from audit.schema import audit_events


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


_INSERT = insert(audit_events).returning(audit_events.c.seq)


async def append_entry(conn: AsyncConnection, entry: AuditEntry) -> int:
    """Insert one entry inside the caller's transaction and return its sequence number."""
    result = await conn.execute(_INSERT, entry_row(entry))
    return int(result.scalar_one())
