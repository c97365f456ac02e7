"""Turning a request's audit context into its one audit entry."""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import AuditEntry, AuditWriteError, GroupCommitAppender, Outcome, append_entry
from gateway.compliance.request_audit import RequestAudit
from gateway.db.faults import store_fault
from gateway.http.errors import AuditUnavailable

log = structlog.get_logger("wardgate.audit")


def outcome_for_status(status: int) -> Outcome:
    if status < 400:
        return Outcome.ALLOWED
    if status in (401, 403):
        return Outcome.DENIED
    if status < 500:
        return Outcome.INVALID
    return Outcome.FAILED


def build_entry(audit: RequestAudit, status: int) -> AuditEntry:
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=audit.request_id,
        action=audit.action or f"http:{audit.method}",
        outcome=audit.outcome or outcome_for_status(status),
        status=status,
        principal_id=audit.principal_id,
        on_behalf_of=audit.on_behalf_of,
        purpose=audit.purpose,
        legal_basis=audit.legal_basis,
        entity=audit.entity,
        record_ids=audit.record_ids,
        subject_ids=audit.subject_ids,
        fields=audit.fields,
        policy_version=audit.policy_version,
        reason=audit.reason,
        classification=audit.classification,
    )


async def append_in_transaction(conn: AsyncConnection, audit: RequestAudit, status: int) -> int:
    """Append inside the caller's transaction (writes: the change and its entry commit together)."""
    seq = await append_entry(conn, build_entry(audit, status))
    audit.seq = seq
    return seq


async def append_now(appender: GroupCommitAppender, audit: RequestAudit, status: int) -> int:
    """Append through group commit; raise AuditUnavailable if the log cannot take it."""
    try:
        seq = await appender.append(build_entry(audit, status))
    except (AuditWriteError, SQLAlchemyError, OSError) as exc:
        fault = store_fault(exc)
        log.warning("audit append failed", fault=fault.value if fault else None)
        msg = "the audit log could not record this request, so no data is returned"
        raise AuditUnavailable(msg) from exc
    audit.seq = seq
    return seq
