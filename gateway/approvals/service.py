"""The export approval flow and the read-side gate.

file (requester) → approve or deny with a reason (a different principal whose roles
hold `approve_export` under the request's purpose) → the requester takes the token,
once → one read of exactly that scope within `TOKEN_TTL`. Every step is one audited
/v1 request. Reads without a token count against the purpose's daily threshold; past
it they are refused with 403 `approval_required` naming the request endpoint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ulid import ULID

from gateway.approvals import store
from gateway.approvals.schemas import DecisionBody, ExportRequestBody
from gateway.approvals.scope import ExportScope
from gateway.approvals.tokens import ExportToken, token_digest
from gateway.compliance.entries import append_now, build_entry
from gateway.compliance.request_audit import RequestAudit
from gateway.governance.call import GovernedCall
from gateway.http.errors import BadRequest, FieldProblem, Forbidden, NotFound, Unprocessable
from gateway.http.json_body import RequestBody
from gateway.http.struct_body import decode_struct

APPROVE_RIGHT = "approve_export"
REQUEST_ENDPOINT = "/v1/approvals/requests"
TOKEN_TTL = dt.timedelta(hours=1)
ENTITY = "export_requests"
APPROVAL_REQUIRED = "approval_required"


def _require_export_control(call: GovernedCall) -> None:
    """Approvals exist for purposes with an export threshold; others have none to ask."""
    call.audit.entity = ENTITY
    if call.purpose.export_threshold is None:
        msg = f"purpose {call.purpose.id!r} sets no export threshold: nothing to approve"
        raise Forbidden(msg, reason="no_export_control")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _public(row: Mapping[str, Any]) -> dict[str, object]:
    """A request as shown: never its token or the token's hash."""
    return {
        "id": row["id"],
        "requester": row["requester"],
        "purpose": row["purpose"],
        "reason": row["reason"],
        "scope": row["scope"],
        "scope_hash": row["scope_hash"],
        "status": row["status"],
        "created_at": row["created_at"],
        "decided_by": row["decided_by"],
        "decided_at": row["decided_at"],
        "decision_reason": row["decision_reason"],
        "token_expires_at": row["token_expires_at"],
        "used_at": row["used_at"],
    }


async def file_request(call: GovernedCall, body: RequestBody) -> dict[str, object]:
    _require_export_control(call)
    filed = decode_struct(body, ExportRequestBody, "export request")
    entity_names = set(call.state.catalog.entities)
    if filed.scope.entity not in entity_names:
        msg = "scope.entity names no entity of the catalog"
        raise Unprocessable(
            msg, reason="unknown_entity", errors=(FieldProblem("scope.entity", "unknown_entity"),)
        )
    known = set(call.state.catalog.entity(filed.scope.entity).field_names)
    for index, name in enumerate(filed.scope.fields):
        if name not in known:
            where = f"scope.fields[{index}]"
            msg = f"{where} names no field of {filed.scope.entity}"
            raise Unprocessable(
                msg, reason="unknown_field", errors=(FieldProblem(where, "unknown_field"),)
            )
    scope = ExportScope.of(
        filed.scope.entity, filed.scope.fields, filed.scope.filter, filed.scope.max_records
    )
    request_id = f"exp_{ULID()}"
    values = {
        "id": request_id,
        "requester": call.principal.id,
        "purpose": call.purpose.id,
        "reason": filed.reason,
        "scope": scope.to_json(),
        "scope_hash": scope.digest,
        "status": "pending",
        "created_at": store.iso(_now()),
    }
    await store.insert_request(call.state.db.writer, values)
    call.audit.record_ids = (request_id,)
    return _public(
        values
        | {
            k: None
            for k in ("decided_by", "decided_at", "decision_reason", "token_expires_at", "used_at")
        }
    )


async def _request_of(call: GovernedCall, request_id: str) -> Mapping[str, Any]:
    row = await store.get_request(call.state.db.reader, request_id)
    # Another purpose's request does not exist for this caller (no oracle on its ids).
    if row is None or row["purpose"] != call.purpose.id:
        msg = "no export request with that id for this purpose"
        raise NotFound(msg)
    call.audit.record_ids = (request_id,)
    return row


STATUSES = ("pending", "approved", "denied", "issued", "used")


async def list_requests(call: GovernedCall, status: str | None) -> dict[str, object]:
    _require_export_control(call)
    if status is not None and status not in STATUSES:
        msg = f"status must be one of {', '.join(STATUSES)}"
        raise BadRequest(
            msg, reason="invalid_status", errors=(FieldProblem("status", "invalid_status"),)
        )
    approver = APPROVE_RIGHT in call.plan.policy.api_rights
    rows = await store.list_requests(
        call.state.db.reader,
        purpose=call.purpose.id,
        requester=None if approver else call.principal.id,
        status=status,
    )
    call.audit.record_ids = tuple(str(row["id"]) for row in rows)
    return {"data": [_public(row) for row in rows]}


async def get_request(call: GovernedCall, request_id: str) -> dict[str, object]:
    _require_export_control(call)
    row = await _request_of(call, request_id)
    if row["requester"] != call.principal.id and APPROVE_RIGHT not in call.plan.policy.api_rights:
        msg = "no export request with that id for this purpose"
        raise NotFound(msg)
    return _public(row)


async def decide(
    call: GovernedCall, request_id: str, body: RequestBody, *, approve: bool
) -> dict[str, object]:
    _require_export_control(call)
    if APPROVE_RIGHT not in call.plan.policy.api_rights:
        msg = f"your roles may not decide export requests for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="approval_not_allowed")
    decision = decode_struct(body, DecisionBody, "decision")
    row = await _request_of(call, request_id)
    if row["requester"] == call.principal.id:
        msg = "a request is decided by a principal other than its requester"
        raise Forbidden(msg, reason="self_approval")
    values = {
        "status": "approved" if approve else "denied",
        "decided_by": call.principal.id,
        "decided_at": store.iso(_now()),
        "decision_reason": decision.reason,
    }
    if not await store.transition(call.state.db.writer, request_id, "pending", values):
        msg = "the request is no longer pending"
        raise Forbidden(msg, reason="not_pending")
    return _public(dict(row) | values)


async def issue_token(call: GovernedCall, request_id: str) -> dict[str, object]:
    """The token of an approved request: to its requester, once."""
    _require_export_control(call)
    row = await _request_of(call, request_id)
    if row["requester"] != call.principal.id:
        msg = "only the requester takes the token of an export request"
        raise Forbidden(msg, reason="not_requester")
    token = ExportToken.new()
    expires = _now() + TOKEN_TTL
    values = {
        "status": "issued",
        "token_hash": token.digest,
        "token_expires_at": store.iso(expires),
    }
    if not await store.transition(call.state.db.writer, request_id, "approved", values):
        msg = "the request is not approved, or its token was already taken"
        raise Forbidden(msg, reason="not_approved")
    return {
        "id": request_id,
        "token": token.value,
        "scope_hash": row["scope_hash"],
        "expires_at": values["token_expires_at"],
        "header": "X-Export-Token",
    }


async def spend_token(
    call: GovernedCall,
    entity: str,
    fields: tuple[str, ...],
    filter_: Mapping[str, str],
    records: int,
) -> str | None:
    """Before a read: spend the caller's export token on exactly this scope (up to
    `records` records); the request id, or None without a token. A token that does not
    open this scope, now, for this principal, is refused as a whole (one reason for
    every cause, as a key that fails to decrypt says nothing of why)."""
    token = call.export_token
    if token is None:
        return None
    used = await _spend(call, token, ExportScope.of(entity, fields, filter_, records), _now())
    if used is None:
        msg = "the export token is not valid for this read (scope, principal, time or use)"
        raise Forbidden(msg, reason="export_token_invalid")
    return used


def _approval_required(threshold: int, purpose: str) -> Forbidden:
    msg = (
        f"reading more than {threshold} records a day for purpose {purpose!r} "
        f"needs an approved export: file one at POST {REQUEST_ENDPOINT}"
    )
    return Forbidden(
        msg, reason="approval_required", extensions={"request_endpoint": REQUEST_ENDPOINT}
    )


@dataclass(frozen=True, slots=True)
class CountedRead:
    """A read without a token that counts against its purpose's threshold: the quota
    its audit entry carries into the batch, and the audit context as it stood when the
    read was counted (what the refusal's entry says, as when the count was a
    transaction of its own before the rest of the pipeline ran)."""

    quota: store.ReadQuota
    refused: RequestAudit


def count_records(call: GovernedCall, records: int) -> CountedRead | None:
    """After a read without a token, before anything is released: what adds the records
    it returns to the principal's count for this purpose today, decided by the audit
    batch that writes the read's entry (`append_counted`). None when the purpose sets no
    threshold or the read returns nothing; refused here when the read alone passes it."""
    threshold = call.purpose.export_threshold
    if threshold is None or records == 0:
        return None
    if records > threshold:
        raise _approval_required(threshold, call.purpose.id)
    # The reason as the problem handler would note it: only where none was set.
    refused = replace(
        call.audit, fields=dict(call.audit.fields), reason=call.audit.reason or APPROVAL_REQUIRED
    )
    quota = store.ReadQuota(
        principal=call.principal.id,
        purpose=call.purpose.id,
        day=_now().date().isoformat(),
        records=records,
        threshold=threshold,
        refusal=build_entry(refused, Forbidden.status),
    )
    return CountedRead(quota, refused)


async def append_counted(call: GovernedCall, counted: CountedRead | None) -> int:
    """The read's audit entry, with its count decided in the same batch: its sequence
    number, or the 403 `approval_required` once the refusal's entry is committed in its
    place (the response then carries no data: it waited for that commit)."""
    if counted is None:
        return await append_now(call.state.appender, call.audit, 200)
    seq = await append_now(call.state.appender, call.audit, 200, counted.quota)
    if counted.quota.admitted:
        return seq
    # The request's context says what its entry says: the refusal, already written.
    for name in ("record_ids", "subject_ids", "fields", "classification", "outcome", "reason"):
        setattr(call.audit, name, getattr(counted.refused, name))
    threshold = counted.quota.threshold
    raise _approval_required(threshold, call.purpose.id)


async def _spend(
    call: GovernedCall, token: str, asked: ExportScope, now: dt.datetime
) -> str | None:
    """The token opens a scope with the read's entity, fields and filter and at least
    as many records as it asks for: its stored max_records is part of the hash."""
    row = await store.get_request_by_token(call.state.db.reader, token_digest(token))
    if row is None:
        return None
    max_records = int(row["scope"]["max_records"])
    if asked.max_records > max_records:
        return None
    bound = ExportScope.of(asked.entity, asked.fields, asked.filter, max_records)
    return await store.use_token(
        call.state.db.writer,
        token_digest(token),
        bound.digest,
        call.purpose.id,
        call.principal.id,
        store.iso(now),
    )
