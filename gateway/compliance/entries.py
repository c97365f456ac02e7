"""The one place that builds audit entries: from the audit context of an API request,
of a command-line operation, of a policy or consent change, of an import batch.

Every door fills in a `RequestAudit` as it learns what happens and hands it here with
its status: HTTP doors their HTTP status, command-line doors `CLI_STATUS`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import uuid

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import AuditEntry, AuditWriteError, GroupCommitAppender, Outcome, append_entry
from audit.admission import Admission
from gateway.compliance.request_audit import RequestAudit
from gateway.db.faults import store_fault
from gateway.http.errors import AuditUnavailable

log = structlog.get_logger("wardgate.audit")

CLI_STATUS = 0
"""The `status` of every command-line entry: there is no HTTP status; `outcome` and
`reason` say what happened."""
CLI_METHOD = "CLI"


def outcome_for_status(status: int) -> Outcome:
    if status < 400:
        return Outcome.ALLOWED
    if status in (401, 403):
        return Outcome.DENIED
    if status < 500:
        return Outcome.INVALID
    return Outcome.FAILED


def cli_principal() -> str:
    """`cli:<os user>`: the principal of every command-line entry."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def cli_audit(action: str, *, request_id: str | None = None) -> RequestAudit:
    """The audit context of a command-line operation (allowed unless told otherwise)."""
    return RequestAudit(
        request_id=request_id or uuid.uuid4().hex,
        method=CLI_METHOD,
        path="",
        action=action,
        principal_id=cli_principal(),
        outcome=Outcome.ALLOWED,
    )


def build_entry(audit: RequestAudit, status: int) -> AuditEntry:
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=audit.request_id,
        action=audit.action or f"http:{audit.method}",
        outcome=audit.outcome or outcome_for_status(status),
        # A use case shared by the API and the CLI passes its HTTP status; a command-line
        # entry still says CLI_STATUS (its outcome was decided from that status above).
        status=CLI_STATUS if audit.method == CLI_METHOD else status,
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


async def append_now(
    appender: GroupCommitAppender,
    audit: RequestAudit,
    status: int,
    admission: Admission | None = None,
) -> int:
    """Append through group commit; raise AuditUnavailable if the log cannot take it.
    With an `admission` the number may be its refusal's (`admission.admitted` says):
    either way it is this request's one entry."""
    try:
        seq = await appender.append(build_entry(audit, status), admission)
    except (AuditWriteError, SQLAlchemyError, OSError) as exc:
        fault = store_fault(exc)
        log.warning("audit append failed", fault=fault.value if fault else None)
        msg = "the audit log could not record this request, so no data is returned"
        raise AuditUnavailable(msg) from exc
    audit.seq = seq
    return seq
