"""The compliance API's reads: events, verification, checkpoints, proofs, export, and the
PIPL Art. 44–45 access report. Only principals with the `audit:read` right; every read
of the log is itself an entry in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import Outcome
from audit.schema import audit_events
from audit.subjects import entries_about
from gateway.compliance import log_reader
from gateway.compliance.checkpoints import latest_checkpoint as stored_latest
from gateway.compliance.entries import append_now
from gateway.compliance.export import ExportFormat, export_lines
from gateway.customers.read import GovernedResult, parse_limit
from gateway.db.schema import store_tables
from gateway.governance.call import GovernedCall
from gateway.http.errors import BadRequest, FieldProblem, Forbidden, NotFound
from keys import InvalidToken

_FILTERS = ("principal", "purpose", "action", "outcome", "reason")
MAX_SEQ = 2**63 - 1
_COLUMNS = {
    "principal": audit_events.c.principal_id,
    "purpose": audit_events.c.purpose,
    "action": audit_events.c.action,
    "outcome": audit_events.c.outcome,
    "reason": audit_events.c.reason,
}


async def _customer_erased(call: GovernedCall, customer_id: str) -> bool | None:
    """Whether the customer was erased; None when the id names no customer."""
    table = store_tables()["customers"]
    async with call.state.db.reader.connect() as conn:
        found = await conn.execute(select(table.c.erased_at).where(table.c.id == customer_id))
        row = found.first()
    return None if row is None else row.erased_at is not None


async def _is_customer(call: GovernedCall, customer_id: str) -> bool:
    """Only ids that name a customer become subjects of an entry: anything typed into a
    filter (a phone number) must not be written into the append-only log."""
    return await _customer_erased(call, customer_id) is not None


def require_audit_right(call: GovernedCall) -> None:
    if "audit:read" not in call.plan.policy.api_rights:
        msg = f"your roles may not read the audit log for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="audit_not_allowed")


def _governance(call: GovernedCall) -> dict[str, object]:
    return {"purpose": call.purpose.id, "policy_version": call.plan.version}


def _time(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
        parsed.astimezone(dt.UTC)  # OverflowError at the calendar's edges
    except (ValueError, OverflowError):
        msg = f"{name} must be an ISO 8601 time with a timezone"
        raise BadRequest(msg, reason="invalid_time") from None
    if parsed.tzinfo is None:
        msg = f"{name} must be an ISO 8601 time with a timezone"
        raise BadRequest(msg, reason="invalid_time")
    return parsed.astimezone(dt.UTC).isoformat(timespec="microseconds")


def normalized_time(value: str | None, name: str) -> str | None:
    """An ISO 8601 time with a timezone as the log stores times (UTC); BadRequest else."""
    return _time(value, name)


def parse_seq(raw: str | None, name: str) -> int:
    # isascii: str.isdigit accepts superscripts and other digits int() refuses; the
    # bound keeps the number inside a database BIGINT.
    if raw is None or not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_SEQ:
        msg = f"{name} must be a whole number"
        raise BadRequest(msg, reason=f"invalid_{name}")
    return int(raw)


def _event(row: Mapping[Any, Any]) -> dict[str, object]:
    return dict(row)


def parse_order(raw: str | None) -> bool:
    """Whether the listing runs newest first (`order=desc`); oldest first is the default.
    An empty `order=` is refused like any other value outside the documented two."""
    if raw in (None, "asc"):
        return False
    if raw == "desc":
        return True
    msg = "order must be asc or desc"
    raise BadRequest(msg, reason="invalid_order", errors=(FieldProblem("order", "invalid_order"),))


def _events_query(
    params: Mapping[str, str], after: int | None, limit: int, *, newest_first: bool
) -> Select[Any]:
    query = select(audit_events)
    customer = params.get("customer_id")
    if customer:
        query = query.where(audit_events.c.seq.in_(entries_about(customer)))
    for name in _FILTERS:
        if params.get(name):
            query = query.where(_COLUMNS[name] == params[name])
    if (since := _time(params.get("since"), "since")) is not None:
        query = query.where(audit_events.c.occurred_at >= since)
    if (until := _time(params.get("until"), "until")) is not None:
        query = query.where(audit_events.c.occurred_at < until)
    if newest_first:
        if after is not None:
            query = query.where(audit_events.c.seq < after)
        return query.order_by(audit_events.c.seq.desc()).limit(limit + 1)
    if after is not None:
        query = query.where(audit_events.c.seq > after)
    return query.order_by(audit_events.c.seq).limit(limit + 1)


def _cursor_context(call: GovernedCall, *, newest_first: bool = False) -> bytes:
    # The order is sealed into the cursor: one from an oldest-first listing does not
    # open in a newest-first one (it would skip or repeat entries), and the reverse.
    return f"audit|{call.principal.id}{'|desc' if newest_first else ''}".encode()


async def list_events(call: GovernedCall, params: Mapping[str, str]) -> GovernedResult:
    require_audit_right(call)
    limit = parse_limit(params.get("limit"))
    newest_first = parse_order(params.get("order"))
    context = _cursor_context(call, newest_first=newest_first)
    after = None
    if cursor := params.get("cursor"):
        try:
            after = int(call.state.cursors.open(cursor, context).decode())
        except (InvalidToken, ValueError):
            msg = "cursor is not one this gateway issued for this listing"
            raise BadRequest(msg, reason="invalid_cursor") from None
    async with call.state.db.reader.connect() as conn:
        query = _events_query(params, after, limit, newest_first=newest_first)
        rows = (await conn.execute(query)).all()
    has_more = len(rows) > limit
    events = [_event(row._mapping) for row in rows[:limit]]
    next_cursor = None
    if has_more and events:
        next_cursor = call.state.cursors.seal(str(events[-1]["seq"]).encode(), context)
    if params.get("customer_id") and await _is_customer(call, params["customer_id"]):
        call.audit.subject_ids = (params["customer_id"],)
    governance = _governance(call)
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(data=events, governance=governance, next_cursor=next_cursor)


async def get_event(call: GovernedCall, seq: int) -> GovernedResult:
    require_audit_right(call)
    if not 0 <= seq <= MAX_SEQ:
        msg = "no audit entry with that sequence number"
        raise NotFound(msg)
    async with call.state.db.reader.connect() as conn:
        row = (await conn.execute(select(audit_events).where(audit_events.c.seq == seq))).first()
    if row is None:
        msg = "no audit entry with that sequence number"
        raise NotFound(msg)
    governance = _governance(call)
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(data=_event(row._mapping), governance=governance)


async def verify(call: GovernedCall) -> GovernedResult:
    require_audit_right(call)
    report, seconds = await log_reader.verify_store(
        call.state.db, call.state.checkpoints.signer.verifier()
    )
    # The entry records the result: when the log was last found whole (or not) is itself
    # a compliance fact, and the metrics read it from here.
    call.audit.fields = {"log": "verified" if report.ok else "broken"}
    governance = _governance(call)
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(
        data=report.to_json() | {"seconds": round(seconds, 3)}, governance=governance
    )


async def latest_checkpoint(call: GovernedCall, *, refresh: bool) -> dict[str, object]:
    require_audit_right(call)
    issuer = call.state.checkpoints
    if refresh:
        stored = await issuer.issue()
    else:
        async with call.state.db.reader.connect() as conn:
            found = await stored_latest(conn)
        stored = found if found is not None else await issuer.issue()
    return stored.to_json(issuer.verifier_key)


async def inclusion_proof(call: GovernedCall, seq: int, size: int) -> dict[str, object]:
    require_audit_right(call)
    async with call.state.db.reader.connect() as conn:
        current = await log_reader.tree_size(conn)
        if not 0 <= seq < size <= current:
            msg = f"need 0 <= seq < tree_size <= {current}"
            raise BadRequest(msg, reason="invalid_proof_range")
        return await log_reader.inclusion(conn, seq, size)


async def consistency_proof(call: GovernedCall, first: int, second: int) -> dict[str, object]:
    require_audit_right(call)
    async with call.state.db.reader.connect() as conn:
        current = await log_reader.tree_size(conn)
        if not 0 < first <= second <= current:
            msg = f"need 0 < first <= second <= {current}"
            raise BadRequest(msg, reason="invalid_proof_range")
        return await log_reader.consistency(conn, first, second)


def parse_export_format(raw: str | None) -> ExportFormat:
    """`jsonl` when absent; an empty `format=` is refused like any undocumented value."""
    try:
        return ExportFormat(ExportFormat.JSONL if raw is None else raw)
    except ValueError:
        msg = "format must be jsonl or csv"
        raise BadRequest(
            msg, reason="invalid_format", errors=(FieldProblem("format", "invalid_format"),)
        ) from None


async def export(
    call: GovernedCall,
    raw_format: str | None,
    since: str | None = None,
    until: str | None = None,
) -> tuple[ExportFormat, AsyncIterator[bytes]]:
    """The export's format and its lines (streamed from one snapshot of the log), of the
    whole log or of the entries in [since, until) (ISO 8601 times with a timezone)."""
    require_audit_right(call)
    fmt = parse_export_format(raw_format)
    start, end = _time(since, "since"), _time(until, "until")
    db = call.state.db

    async def lines() -> AsyncIterator[bytes]:
        async with log_reader.snapshot(db) as conn:
            async for line in export_lines(conn, fmt, start, end):
                yield line

    return fmt, lines()


def _access(row: Any) -> dict[str, object]:
    """One entry as the access report shows it. `fields` says what happened to each
    field of a request that went through; a refused or failed request showed and wrote
    nothing, so its `fields` is empty and `requested` names the fields its entry
    recorded (entries written before refusals recorded none still list them there)."""
    allowed = row.outcome == Outcome.ALLOWED
    recorded = _json_map(row.fields)
    return {
        "seq": row.seq,
        "time": row.occurred_at,
        "principal": row.principal_id,
        "on_behalf_of": row.on_behalf_of,
        "purpose": row.purpose,
        "legal_basis": row.legal_basis,
        "action": row.action,
        "outcome": row.outcome,
        "status": row.status,
        "reason": row.reason,
        "fields": recorded if allowed else {},
        "requested": [] if allowed else sorted(recorded),
    }


def _json_map(value: object) -> dict[str, str]:
    decoded = orjson.loads(value) if isinstance(value, str | bytes) else value
    return dict(decoded) if isinstance(decoded, Mapping) else {}


async def access_report(call: GovernedCall, customer_id: str) -> GovernedResult:
    """Who accessed this person's data, when, for which purpose, which fields.

    An id that names no customer is 404: an empty report would read as "nobody looked".
    An erased customer's report is still given (`erased: true`): the log outlives the
    data, and who processed it before the erasure is exactly what the person may ask.
    """
    require_audit_right(call)
    erased = await _customer_erased(call, customer_id)
    if erased is None:
        msg = "no customers record with that id"
        raise NotFound(msg)
    call.audit.subject_ids = (customer_id,)
    async with call.state.db.reader.connect() as conn:
        accesses = await access_entries(conn, customer_id)
    governance = _governance(call)
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(
        data={"customer_id": customer_id, "erased": erased, "accesses": accesses},
        governance=governance,
    )


async def access_entries(conn: AsyncConnection, customer_id: str) -> list[dict[str, object]]:
    """Every audit entry about this person, oldest first, as the access report shows it
    (also the access report inside a data subject's access package)."""
    query = (
        select(audit_events)
        .where(audit_events.c.seq.in_(entries_about(customer_id)))
        .order_by(audit_events.c.seq)
    )
    return [_access(row) for row in (await conn.execute(query)).all()]
