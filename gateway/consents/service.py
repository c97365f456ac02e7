"""Consent records through the API: read the state and history, grant, withdraw.

Every change is appended to the consent history and to the audit log in one
transaction. Withdrawal takes effect for the very next request (states are derived from
the history on every data call) and leaves earlier processing untouched (PIPL Art. 15).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from gateway.compliance.entries import append_in_transaction, append_now
from gateway.consents.store import append_consent, consent_events
from gateway.customers.age import AGE_FIELDS, reveal_ages
from gateway.customers.live import require_live_customer
from gateway.customers.read import GovernedResult
from gateway.customers.write import parse_body
from gateway.governance.call import GovernedCall
from gateway.http.errors import (
    AuditUnavailable,
    FieldProblem,
    Forbidden,
    Unprocessable,
)
from gateway.http.json_body import RequestBody
from policies.consent import (
    ConsentEvent,
    ConsentState,
    SeparateScope,
    derive_states,
    is_valid,
)

_TOKEN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_GRANT_FIELDS = frozenset(
    {"purpose", "channel", "notice_version", "evidence", "expires_at", "separate", "guardian"}
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _state_json(state: ConsentState, now: dt.datetime) -> dict[str, object]:
    return {
        "purpose": state.purpose,
        "valid": is_valid(state, now),
        "granted": state.granted,
        "granted_at": state.granted_at.isoformat() if state.granted_at else None,
        "withdrawn_at": state.withdrawn_at.isoformat() if state.withdrawn_at else None,
        "expires_at": state.expires_at.isoformat() if state.expires_at else None,
        "channel": state.channel,
        "notice_version": state.notice_version,
        "separate": sorted(s.value for s in state.separate),
        "guardian": state.guardian_ref is not None,
    }


def _event_json(event: ConsentEvent, *, evidence: bool) -> dict[str, object]:
    shown: dict[str, object] = {
        "purpose": event.purpose,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "channel": event.channel,
        "notice_version": event.notice_version,
        "expires_at": event.expires_at.isoformat() if event.expires_at else None,
        "separate": sorted(s.value for s in event.separate),
        "recorded_by": event.recorded_by,
    }
    if evidence:
        shown["evidence_hash"] = event.evidence_hash
        shown["guardian_ref"] = event.guardian_ref
    return shown


def _require_consent_right(call: GovernedCall, purpose: str | None = None) -> None:
    allowed = call.plan.policy.consent_purposes
    if not allowed or (purpose is not None and purpose not in allowed):
        msg = "your roles may not record or withdraw this consent"
        raise Forbidden(msg, reason="consent_not_allowed")


async def _customer_facts(call: GovernedCall, customer_id: str) -> bool:
    """Whether the live customer is a minor; 404/410 otherwise."""

    def found() -> None:
        call.audit.record_ids = call.audit.subject_ids = (customer_id,)

    async with call.state.db.reader.connect() as conn:
        row = await require_live_customer(conn, customer_id, AGE_FIELDS, found=found)
    ages = await reveal_ages(call.state.protector, [row])
    return ages[customer_id].minor_on(_now().date())


def _readable_purposes(call: GovernedCall) -> frozenset[str] | None:
    """The purposes whose consent records the caller may see; None for every purpose.

    Minimization (PIPL Art. 6): the records of the purpose the caller declared, and of
    the purposes its roles hold `consent:read` for (`api:consent`: all of them).
    """
    policy = call.plan.policy
    may_list = policy.consent_purposes or policy.consent_readable
    if not may_list and "audit:read" not in policy.api_rights:
        _require_consent_right(call)
    readable = policy.consent_readable | {call.purpose.id}
    return None if readable >= call.snapshot.document.purposes.keys() else frozenset(readable)


async def list_consents(
    call: GovernedCall, customer_id: str, *, with_evidence: bool = True
) -> GovernedResult:
    """A customer's consent records; evidence hashes and guardian references only when
    the caller holds `consent:evidence` and asks for them (the console never does)."""
    readable = _readable_purposes(call)
    evidence = with_evidence and "consent:evidence" in call.plan.policy.api_rights
    await _customer_facts(call, customer_id)
    async with call.state.db.reader.connect() as conn:
        events = await consent_events(conn, [customer_id])
    if readable is not None:
        events = [event for event in events if event.purpose in readable]
    now = _now()
    states = derive_states(events)
    call.audit.fields = {
        "consents": "read:all" if readable is None else "read:" + ",".join(sorted(readable)),
        "evidence": "clear" if evidence else "withheld:denied",
    }
    governance: dict[str, object] = {
        "purpose": call.purpose.id,
        "policy_version": call.plan.version,
        "consent_purposes": "*" if readable is None else sorted(readable),
        "evidence": "clear" if evidence else "withheld:denied",
    }
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(
        data={
            "customer_id": customer_id,
            "current": [_state_json(s, now) for s in states.values()],
            "history": [_event_json(e, evidence=evidence) for e in events],
        },
        governance=governance,
    )


def _text(
    body: Mapping[str, Any], name: str, problems: list[FieldProblem], *, required: bool
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            problems.append(FieldProblem(name, "required"))
        return None
    if not isinstance(value, str) or not _TOKEN.match(value):
        problems.append(FieldProblem(name, f"invalid_{name}"))
        return None
    return value


def _grant_event(
    call: GovernedCall, customer_id: str, body: Mapping[str, Any], minor: bool
) -> ConsentEvent:
    problems: list[FieldProblem] = [
        FieldProblem(name, "unknown_field") for name in body if name not in _GRANT_FIELDS
    ]
    purpose = _text(body, "purpose", problems, required=True)
    if purpose is not None and purpose not in call.snapshot.document.purposes:
        problems.append(FieldProblem("purpose", "unknown_purpose"))
    channel = _text(body, "channel", problems, required=True)
    notice = _text(body, "notice_version", problems, required=True)
    evidence = body.get("evidence")
    if evidence is not None and (not isinstance(evidence, str) or len(evidence) > 4096):
        problems.append(FieldProblem("evidence", "invalid_evidence"))
    expires_at = None
    if (raw_expiry := body.get("expires_at")) is not None:
        try:
            expires_at = dt.datetime.fromisoformat(str(raw_expiry))
            if expires_at.tzinfo is None or expires_at <= _now():
                raise ValueError
        except (ValueError, OverflowError):
            problems.append(FieldProblem("expires_at", "invalid_expiry"))
            expires_at = None
    separate: set[SeparateScope] = set()
    raw_separate = body.get("separate", [])
    if not isinstance(raw_separate, list):
        problems.append(FieldProblem("separate", "invalid_scope"))
    else:
        for scope in raw_separate:
            try:
                separate.add(SeparateScope(scope))
            except ValueError:
                problems.append(FieldProblem("separate", "invalid_scope"))
    guardian = body.get("guardian")
    guardian_ref = guardian.get("ref") if isinstance(guardian, dict) else guardian
    if guardian is not None and (
        not isinstance(guardian_ref, str) or not _TOKEN.match(guardian_ref)
    ):
        problems.append(FieldProblem("guardian", "invalid_guardian"))
        guardian_ref = None
    if minor and guardian is None:
        # PIPL Art. 31: for a child under 14 only a guardian can consent.
        problems.append(FieldProblem("guardian", "guardian_required"))
    if problems:
        call.audit.fields = {p.field: f"rejected:{p.reason}" for p in problems}
        msg = "invalid consent: " + ", ".join(sorted({p.field for p in problems}))
        raise Unprocessable(msg, reason=problems[0].reason, errors=tuple(problems))
    assert purpose is not None  # noqa: S101 - validated above
    assert channel is not None  # noqa: S101 - validated above
    assert notice is not None  # noqa: S101 - validated above
    _require_consent_right(call, purpose)
    # A role entitled to one purpose only records consent captured in its own channel.
    if len(call.plan.policy.consent_purposes) == 1 and channel != call.principal.id:
        msg = f"consent recorded by {call.principal.id!r} must carry its own channel"
        raise Forbidden(
            msg, reason="foreign_channel", errors=(FieldProblem("channel", "foreign_channel"),)
        )
    return ConsentEvent(
        customer_id=customer_id,
        purpose=purpose,
        kind="grant",
        at=_now(),
        channel=channel,
        notice_version=notice,
        evidence_hash=hashlib.sha256(evidence.encode()).hexdigest()
        if isinstance(evidence, str)
        else None,
        expires_at=expires_at,
        separate=frozenset(separate),
        guardian_ref=guardian_ref if isinstance(guardian_ref, str) else None,
        recorded_by=call.principal.id,
    )


async def _store(call: GovernedCall, event: ConsentEvent, status: int) -> int:
    call.audit.fields = {f"consent:{event.purpose}": event.kind}
    try:
        async with call.state.db.writer.begin() as conn:
            await append_consent(conn, event, call.audit.request_id)
            return await append_in_transaction(conn, call.audit, status)
    except SQLAlchemyError as exc:
        call.audit.seq = None
        msg = "the consent could not be committed with its audit entry; nothing was stored"
        raise AuditUnavailable(msg) from exc


async def grant(call: GovernedCall, customer_id: str, body: RequestBody) -> GovernedResult:
    _require_consent_right(call)
    document = parse_body(body)
    minor = await _customer_facts(call, customer_id)
    event = _grant_event(call, customer_id, document, minor)
    seq = await _store(call, event, 201)
    state = derive_states([event])[(customer_id, event.purpose)]
    return GovernedResult(
        data=_state_json(state, _now()),
        governance={
            "purpose": call.purpose.id,
            "policy_version": call.plan.version,
            "audit_id": seq,
        },
    )


async def withdraw(call: GovernedCall, customer_id: str, purpose: str) -> GovernedResult:
    _require_consent_right(call, purpose)
    await _customer_facts(call, customer_id)
    async with call.state.db.reader.connect() as conn:
        events = await consent_events(conn, [customer_id], purpose)
    current = derive_states(events).get((customer_id, purpose))
    if current is None or not current.granted or current.withdrawn_at is not None:
        msg = "there is no consent for that purpose to withdraw"
        raise Unprocessable(msg, reason="not_granted")
    event = ConsentEvent(
        customer_id=customer_id,
        purpose=purpose,
        kind="withdraw",
        at=_now(),
        channel=current.channel,
        notice_version=current.notice_version,
        evidence_hash=None,
        expires_at=None,
        separate=frozenset(),
        guardian_ref=None,
        recorded_by=call.principal.id,
    )
    seq = await _store(call, event, 200)
    state = derive_states([*events, event])[(customer_id, purpose)]
    return GovernedResult(
        data=_state_json(state, _now()),
        governance={
            "purpose": call.purpose.id,
            "policy_version": call.plan.version,
            "audit_id": seq,
        },
    )
