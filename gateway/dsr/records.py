"""Store access for requests: load one, move it through the machine, list them.

A transition is one conditional UPDATE (`WHERE status = <the status it was read in>`),
its history row and, where the caller passes it, the request's audit entry, all in one
transaction: two DPOs acting at once cannot both move the same request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from ulid import ULID

from gateway.compliance.entries import append_in_transaction
from gateway.db.schema import dsr_events, dsr_requests
from gateway.dsr.machine import OPEN, Action, Status, WrongStatus, next_status
from gateway.dsr.working_days import WorkingCalendar
from gateway.governance.call import GovernedCall
from gateway.http.errors import NotFound

Json = dict[str, object]


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


async def load(conn: AsyncConnection, call: GovernedCall, dsr_id: str) -> Row[Any]:
    """The request, with its id and its person named in this call's audit entry."""
    row = (await conn.execute(select(dsr_requests).where(dsr_requests.c.id == dsr_id))).first()
    if row is None:
        msg = "no data subject request with that id"
        raise NotFound(msg)
    call.audit.record_ids = (row.id,)
    call.audit.subject_ids = (row.customer_id,)
    return row


async def add_event(
    conn: AsyncConnection,
    call: GovernedCall,
    dsr_id: str,
    action: Action,
    from_status: Status | None,
    to_status: Status,
    detail: Mapping[str, object],
    at: str,
) -> None:
    await conn.execute(
        insert(dsr_events).values(
            id=f"dse_{ULID()}",
            dsr_id=dsr_id,
            at=at,
            action=action.value,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value,
            actor=call.principal.id,
            detail=dict(detail),
            request_id=call.audit.request_id,
        )
    )


async def transition(
    conn: AsyncConnection,
    call: GovernedCall,
    row: Row[Any],
    action: Action,
    *,
    values: Mapping[str, object] | None = None,
    detail: Mapping[str, object] | None = None,
    audit_status: int | None = 200,
) -> Status:
    """Move `row` by `action` (409 if the machine or a concurrent change forbids it);
    write the audit entry in the same transaction unless `audit_status` is None."""
    current = Status(row.status)
    target = next_status(current, action)
    at = now_text()
    changed = await conn.execute(
        update(dsr_requests)
        .where(dsr_requests.c.id == row.id, dsr_requests.c.status == current.value)
        .values(status=target.value, updated_at=at, **dict(values or {}))
    )
    if changed.rowcount != 1:
        now = (
            await conn.execute(select(dsr_requests.c.status).where(dsr_requests.c.id == row.id))
        ).scalar_one()
        msg = f"the request changed meanwhile and is now {now}"
        raise WrongStatus(msg, extensions={"current_status": str(now)})
    await add_event(conn, call, row.id, action, current, target, detail or {}, at)
    call.audit.entity = "dsr_requests"
    call.audit.fields = {"status": target.value}
    if audit_status is not None:
        await append_in_transaction(conn, call.audit, audit_status)
    return target


def _deadline(row: Row[Any] | Mapping[str, Any], calendar: WorkingCalendar, today: dt.date) -> Json:
    due = dt.date.fromisoformat(row.due_date if isinstance(row, Row) else row["due_date"])
    status = Status(row.status if isinstance(row, Row) else row["status"])
    if status not in OPEN:
        return {"days_left": None, "overdue": False}
    left = calendar.working_days_between(today, due)
    return {"days_left": left, "overdue": today > due}


def request_json(
    row: Row[Any],
    calendar: WorkingCalendar,
    today: dt.date,
    *,
    downloads_allowed: int,
    events: Sequence[Row[Any]] | None = None,
) -> Json:
    """A request as the API shows it: state, deadline, proof; never the person's data."""
    body: Json = {
        "id": row.id,
        "customer_id": row.customer_id,
        "type": row.type,
        "status": row.status,
        "received_at": row.received_at,
        "due_date": row.due_date,
        "provisional": bool(row.provisional),
        **_deadline(row, calendar, today),
        "filed_by": row.filed_by,
        "verification": (
            {"method": row.verification_method, "evidence_sha256": row.evidence_hash}
            if row.verification_method
            else None
        ),
        "refusal": (
            {"reason": row.refusal_reason, "text": row.refusal_text} if row.refusal_reason else None
        ),
        "failure": row.failure,
        "result": row.result,
        "package": (
            {
                "expires_at": row.package_expires_at,
                "downloads": row.package_downloads,
                "downloads_left": max(0, downloads_allowed - row.package_downloads),
            }
            if row.package is not None
            else None
        ),
        "updated_at": row.updated_at,
    }
    if events is not None:
        body["history"] = [
            {
                "at": event.at,
                "action": event.action,
                "from": event.from_status,
                "to": event.to_status,
                "by": event.actor,
                "detail": event.detail,
            }
            for event in events
        ]
    return body


async def history(conn: AsyncConnection, dsr_id: str) -> list[Row[Any]]:
    query = (
        select(dsr_events)
        .where(dsr_events.c.dsr_id == dsr_id)
        .order_by(dsr_events.c.at, dsr_events.c.id)
    )
    return list((await conn.execute(query)).all())
