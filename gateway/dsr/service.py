"""Use cases of the DSR API other than fulfilment: file, list, show, verify, start,
refuse, cancel, extend. Each leaves exactly one audit entry (the request's own)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Row, and_, insert, select
from sqlalchemy.exc import SQLAlchemyError
from ulid import ULID

from gateway.compliance.entries import append_in_transaction, append_now
from gateway.customers.read import GovernedResult, parse_limit
from gateway.db.schema import customers_table, dsr_requests
from gateway.dsr import bodies, records
from gateway.dsr.calendar_source import calendar_for, today_in_china
from gateway.dsr.machine import (
    OPEN,
    Action,
    RefusalReason,
    RequestType,
    Status,
    VerificationMethod,
)
from gateway.dsr.rights import require_file_right, require_handle_right
from gateway.dsr.working_days import china_date
from gateway.governance.call import GovernedCall
from gateway.http.errors import (
    AuditUnavailable,
    BadRequest,
    FieldProblem,
    Gone,
    NotFound,
    Unprocessable,
)
from gateway.http.json_body import RequestBody
from keys import DataKeyMissingError, FieldContext

Json = dict[str, object]
ENTITY = "dsr_requests"


def governance_of(call: GovernedCall, seq: int | None) -> Json:
    return {"purpose": call.purpose.id, "policy_version": call.plan.version, "audit_id": seq}


def shown(call: GovernedCall, row: Row[Any], events: list[Row[Any]] | None = None) -> Json:
    return records.request_json(
        row,
        calendar_for(call.state.settings),
        today_in_china(),
        downloads_allowed=call.state.settings.dsr_package_downloads,
        events=events,
    )


def _store_failure(exc: Exception) -> AuditUnavailable:
    msg = "the change could not be committed with its audit entry; nothing was stored"
    error = AuditUnavailable(msg)
    error.__cause__ = exc
    return error


def _parse_type(document: Mapping[str, Any]) -> RequestType:
    try:
        return RequestType(document["type"])
    except (ValueError, TypeError):
        bodies.reject([FieldProblem("type", "unknown_type")])
        raise  # unreachable: reject raised


async def file_request(call: GovernedCall, body: RequestBody) -> GovernedResult:
    """File a request: received now, due after the configured working days."""
    require_file_right(call)
    call.audit.entity = ENTITY
    document = bodies.parse_fields(
        body, ("customer_id", "type", "changes"), required=("customer_id", "type")
    )
    kind = _parse_type(document)
    changes = document.get("changes")
    if kind is RequestType.CORRECTION:
        if not isinstance(changes, dict) or not changes:
            bodies.reject([FieldProblem("changes", "required")])
    elif changes is not None:
        bodies.reject([FieldProblem("changes", "not_applicable")])
    customer_id = document["customer_id"]
    if not isinstance(customer_id, str):
        bodies.reject([FieldProblem("customer_id", "invalid_type")])
    customers = customers_table()
    received = dt.datetime.now(dt.UTC)
    calendar = calendar_for(call.state.settings)
    deadline = calendar.add_working_days(china_date(received), call.state.settings.dsr_working_days)
    dsr_id = f"dsr_{ULID()}"
    at = received.isoformat(timespec="microseconds")
    try:
        async with call.state.db.writer.begin() as conn:
            found = (
                await conn.execute(
                    select(customers.c.erased_at).where(customers.c.id == customer_id)
                )
            ).first()
            if found is None:
                msg = "no customers record with that id"
                raise NotFound(msg)
            call.audit.subject_ids = (customer_id,)
            if found.erased_at is not None:
                msg = "this customer's personal information was already erased"
                raise Gone(msg, reason="erased")
            payload = None
            if changes is not None:
                # What the person wants corrected is their data: encrypted like it.
                key = await call.state.protector.keystore.current_key(customer_id)
                payload = call.state.protector.cipher.encrypt(
                    key, FieldContext(ENTITY, "payload", dsr_id), orjson.dumps(changes).decode()
                )
            await conn.execute(
                insert(dsr_requests).values(
                    id=dsr_id,
                    customer_id=customer_id,
                    type=kind.value,
                    status=Status.RECEIVED.value,
                    received_at=at,
                    due_date=deadline.due.isoformat(),
                    provisional=deadline.provisional,
                    filed_by=call.principal.id,
                    payload=payload,
                    package_downloads=0,
                    updated_at=at,
                )
            )
            detail: Json = {"type": kind.value, "due_date": deadline.due.isoformat()}
            if changes is not None:
                detail["fields"] = sorted(changes)
            await records.add_event(
                conn, call, dsr_id, Action.FILE, None, Status.RECEIVED, detail, at
            )
            call.audit.record_ids = (dsr_id,)
            call.audit.fields = {"status": Status.RECEIVED.value}
            seq = await append_in_transaction(conn, call.audit, 201)
            row = await records.load(conn, call, dsr_id)
    except (SQLAlchemyError, DataKeyMissingError) as exc:
        call.audit.seq = None
        raise _store_failure(exc) from exc
    return GovernedResult(data=shown(call, row), governance=governance_of(call, seq))


_LIST_FILTERS = ("status", "type", "customer_id")


def _check_filter(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        msg = f"{name} must be one of {', '.join(allowed)}"
        raise BadRequest(msg, reason=f"invalid_{name}", errors=(FieldProblem(name, "invalid"),))


async def list_requests(call: GovernedCall, params: Mapping[str, str | None]) -> GovernedResult:
    """Requests, overdue first, then by due date; days left on each."""
    require_handle_right(call)
    call.audit.entity = ENTITY
    _check_filter("status", params.get("status"), tuple(s.value for s in Status))
    _check_filter("type", params.get("type"), tuple(t.value for t in RequestType))
    _check_filter("overdue", params.get("overdue"), ("true", "false"))
    limit = parse_limit(params.get("limit"))
    query = select(dsr_requests)
    conditions = [
        dsr_requests.c[name] == params[name] for name in _LIST_FILTERS if params.get(name)
    ]
    if params.get("overdue") is not None:
        today = today_in_china().isoformat()
        overdue = and_(
            dsr_requests.c.status.in_([s.value for s in OPEN]), dsr_requests.c.due_date < today
        )
        conditions.append(overdue if params["overdue"] == "true" else ~overdue)
    if conditions:
        query = query.where(and_(*conditions))
    query = query.order_by(dsr_requests.c.due_date, dsr_requests.c.id).limit(limit)
    async with call.state.db.reader.connect() as conn:
        rows = (await conn.execute(query)).all()
    listed = [shown(call, row) for row in rows]
    # Open and overdue first (most overdue at the top), then open by due date, then closed.
    listed.sort(key=lambda r: (not r["overdue"], r["days_left"] is None))
    call.audit.record_ids = tuple(str(r["id"]) for r in listed)
    call.audit.subject_ids = tuple(dict.fromkeys(str(r["customer_id"]) for r in listed))
    seq = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(data=listed, governance=governance_of(call, seq))


async def show_request(call: GovernedCall, dsr_id: str) -> GovernedResult:
    require_handle_right(call)
    call.audit.entity = ENTITY
    async with call.state.db.reader.connect() as conn:
        row = await records.load(conn, call, dsr_id)
        events = await records.history(conn, dsr_id)
    seq = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(data=shown(call, row, events), governance=governance_of(call, seq))


async def _move(
    call: GovernedCall,
    dsr_id: str,
    action: Action,
    values: Mapping[str, object],
    detail: Mapping[str, object],
) -> GovernedResult:
    call.audit.entity = ENTITY
    try:
        async with call.state.db.writer.begin() as conn:
            row = await records.load(conn, call, dsr_id)
            await records.transition(conn, call, row, action, values=values, detail=detail)
            row = await records.load(conn, call, dsr_id)
    except SQLAlchemyError as exc:
        call.audit.seq = None
        raise _store_failure(exc) from exc
    return GovernedResult(data=shown(call, row), governance=governance_of(call, call.audit.seq))


async def verify(call: GovernedCall, dsr_id: str, body: RequestBody) -> GovernedResult:
    """Record how the person's identity was verified: the method and a hash of the
    evidence, never the evidence."""
    require_handle_right(call)
    document = bodies.parse_fields(body, ("method", "evidence"), required=("method", "evidence"))
    try:
        method = VerificationMethod(document["method"])
    except (ValueError, TypeError):
        bodies.reject([FieldProblem("method", "invalid_method")])
        raise
    evidence = bodies.text_field(document, "evidence")
    digest = hashlib.sha256(evidence.encode()).hexdigest()
    values = {"verification_method": method.value, "evidence_hash": digest}
    detail = {"method": method.value, "evidence_sha256": digest}
    return await _move(call, dsr_id, Action.VERIFY, values, detail)


async def start(call: GovernedCall, dsr_id: str) -> GovernedResult:
    require_handle_right(call)
    return await _move(call, dsr_id, Action.START, {}, {})


async def refuse(call: GovernedCall, dsr_id: str, body: RequestBody) -> GovernedResult:
    """Refuse with a stable reason word and a text for the person (PIPL Art. 50)."""
    require_handle_right(call)
    document = bodies.parse_fields(body, ("reason", "text"))
    missing = [FieldProblem(n, "required") for n in ("reason", "text") if not document.get(n)]
    if missing:
        msg = "a refusal needs a reason word and a text for the person (PIPL Art. 50)"
        raise Unprocessable(msg, reason="reason_required", errors=tuple(missing))
    try:
        reason = RefusalReason(document["reason"])
    except (ValueError, TypeError):
        bodies.reject([FieldProblem("reason", "invalid_reason")])
        raise
    text = bodies.text_field(document, "text")
    values = {"refusal_reason": reason.value, "refusal_text": text}
    return await _move(call, dsr_id, Action.REFUSE, values, {"reason": reason.value})


async def cancel(call: GovernedCall, dsr_id: str) -> GovernedResult:
    require_handle_right(call)
    return await _move(call, dsr_id, Action.CANCEL, {}, {})


async def extend(call: GovernedCall, dsr_id: str, body: RequestBody) -> GovernedResult:
    """Move the due date by some working days, with a reason (recorded in the history)."""
    require_handle_right(call)
    document = bodies.parse_fields(body, ("days", "reason"), required=("days", "reason"))
    days = document["days"]
    if isinstance(days, float) and days.is_integer():
        days = int(days)  # JSON Schema's integer: 5.0 is an integer too
    if isinstance(days, bool) or not isinstance(days, int):
        bodies.reject([FieldProblem("days", "invalid_type")])
    if not 1 <= days <= bodies.MAX_EXTENSION_DAYS:
        bodies.reject([FieldProblem("days", "out_of_range")])
    reason = bodies.text_field(document, "reason")
    calendar = calendar_for(call.state.settings)
    call.audit.entity = ENTITY
    try:
        async with call.state.db.writer.begin() as conn:
            row = await records.load(conn, call, dsr_id)
            current = dt.date.fromisoformat(row.due_date)
            moved = calendar.add_working_days(current, days)
            values = {
                "due_date": moved.due.isoformat(),
                "provisional": bool(row.provisional) or moved.provisional,
            }
            detail = {
                "days": days,
                "reason": reason,
                "from": current.isoformat(),
                "to": moved.due.isoformat(),
            }
            await records.transition(conn, call, row, Action.EXTEND, values=values, detail=detail)
            row = await records.load(conn, call, dsr_id)
    except SQLAlchemyError as exc:
        call.audit.seq = None
        raise _store_failure(exc) from exc
    return GovernedResult(data=shown(call, row), governance=governance_of(call, call.audit.seq))
