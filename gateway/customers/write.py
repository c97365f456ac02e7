"""The governed write pipeline: check rights, validate every field, store, audit — atomically.

Nothing is stored unless every field passes; the change and its audit entry commit in
one transaction, so there is never a write without its entry or an entry for a write
that did not happen. Free text written is classified (PII types and counts, never
values) into the record's `pii_classes` and the audit entry's `classification`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from ulid import ULID

from gateway.compliance.entries import append_in_transaction
from gateway.customers import classification as classes
from gateway.customers.age import AGE_FIELDS, age_in, reveal_with_ages
from gateway.customers.live import live_customer
from gateway.customers.read import GovernedResult
from gateway.db.schema import LAST_ACTIVITY_COLUMN, PII_CLASSES_COLUMN, store_tables
from gateway.governance import consent_gate as gate
from gateway.governance.call import GovernedCall
from gateway.governance.scan import scan_rows
from gateway.http.errors import (
    AuditUnavailable,
    FieldProblem,
    Forbidden,
    Unprocessable,
)
from gateway.http.json_body import RequestBody, parse_json_object
from keys import DataKeyMissingError
from masking.detection import DetectedEntity
from policies.catalog import Entity
from policies.consent import Age, RecordDecision
from policies.formats import FieldInvalid, check_consistency, validate

ENTITY = "customers"


def parse_body(body: RequestBody) -> dict[str, object]:
    return parse_json_object(body, shape="of field names to values")


def _require_some_write_right(call: GovernedCall, entity: str) -> None:
    """A caller that may write no field at all is refused before its body is read, so it
    learns nothing about which bodies are valid."""
    if not call.view(entity).writable:
        msg = f"your roles may write no field of {entity} for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="write_not_allowed")


def _reject(call: GovernedCall, problems: list[FieldProblem], error: type[Exception]) -> None:
    call.audit.fields = {p.field: f"rejected:{p.reason}" for p in problems}
    first = problems[0]
    if error is Forbidden:
        names = ", ".join(p.field for p in problems)
        msg = f"your roles may not write: {names}"
        raise Forbidden(msg, reason=first.reason, errors=tuple(problems))
    names = ", ".join(p.field for p in problems)
    msg = f"invalid fields: {names}"
    raise Unprocessable(msg, reason=first.reason, errors=tuple(problems))


def _checked_values(
    call: GovernedCall, entity: Entity, body: Mapping[str, object], *, creating: bool
) -> dict[str, object]:
    """Validate a write body against the catalog and the caller's write rights."""
    unknown = [name for name in body if name not in entity.field_names]
    if unknown:
        _reject(call, [FieldProblem(name, "unknown_field") for name in unknown], Unprocessable)
    writable = call.view(entity.name).writable
    refused = [name for name in body if name not in writable]
    if refused:
        _reject(call, [FieldProblem(name, "field_not_writable") for name in refused], Forbidden)
    problems: list[FieldProblem] = []
    values: dict[str, object] = {}
    for name, raw in body.items():
        spec = entity.field(name)
        try:
            values[name] = validate(spec.format, raw, required=spec.required)
        except FieldInvalid as invalid:
            problems.append(FieldProblem(name, invalid.reason))
    if creating:
        problems.extend(
            FieldProblem(spec.name, "required")
            for spec in entity.fields
            if spec.required and spec.name not in body
        )
    if problems:
        _reject(call, problems, Unprocessable)
    if not values:
        msg = "the body names no field to write"
        raise Unprocessable(msg, reason="no_fields")
    return values


def _check_consistency(call: GovernedCall, merged: Mapping[str, object]) -> None:
    problems = [FieldProblem(name, reason) for name, reason in check_consistency(merged)]
    if problems:
        _reject(call, problems, Unprocessable)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


async def _consent_decision(
    call: GovernedCall, customer_id: str, known_age: Age
) -> RecordDecision | None:
    """The same consent rules as a read, for the record being written."""
    fields = gate.gated_fields(call, ENTITY)
    if not gate.needs_gate(call.purpose, fields):
        return None
    minor = known_age.minor_on(dt.datetime.now(dt.UTC).date())
    async with call.state.db.reader.connect() as conn:
        decided = await gate.decide(call, conn, {customer_id: minor}, fields)
    return decided.record(customer_id)


async def _classify(
    call: GovernedCall, entity: Entity, values: Mapping[str, object]
) -> tuple[classes.Classification, dict[tuple[int, str], list[DetectedEntity]]]:
    """The written free text's classification, and its entities for the response.
    Detection runs before the transaction: CPU work must not hold the write lock."""
    texts, places = classes.texts_of(entity, [values])
    found = await call.state.scanner.detect(texts)
    if places:
        call.audit.classification = classes.classifications(1, places, found)[0]
    return call.audit.classification or {}, dict(zip(places, found, strict=True))


def _prime(
    call: GovernedCall,
    stored: Mapping[str, object],
    known: Mapping[tuple[int, str], list[DetectedEntity]],
) -> None:
    """The next read of what was just written needs no detection."""
    for (_, name), entities in known.items():
        call.state.scanner.remember(stored.get(name), entities)


async def _result(
    call: GovernedCall,
    row: Mapping[str, object],
    seq: int,
    decision: RecordDecision | None,
    known: Mapping[tuple[int, str], list[DetectedEntity]],
    stored: Mapping[str, object] | None = None,
) -> GovernedResult:
    view = call.view(ENTITY)
    governance = call.governance(ENTITY)
    shown = dict(row)
    fields = governance["fields"]
    assert isinstance(fields, dict)  # noqa: S101 - built by call.governance
    reasons, in_text = gate.split_reasons(
        call.state.catalog.entity(ENTITY), decision.field_reasons if decision else {}
    )
    for name, reason in reasons.items():
        shown.pop(name, None)
        fields[name] = f"withheld:{reason}"
    await scan_rows(
        call,
        ENTITY,
        [shown],
        [in_text],
        known,
        stored={str(row["id"]): stored} if stored is not None else None,
    )
    governance["audit_id"] = seq
    return GovernedResult(data=view.render(shown), governance=governance)


async def create_customer(call: GovernedCall, body: RequestBody) -> GovernedResult:
    entity = call.state.catalog.entity(ENTITY)
    _require_some_write_right(call, ENTITY)
    values = _checked_values(call, entity, parse_body(body), creating=True)
    _check_consistency(call, values)
    classification, known = await _classify(call, entity, values)
    table = store_tables()[ENTITY]
    now = _now()
    customer_id = f"cus_{ULID()}"
    record = {name: None for name in entity.field_names} | values | {"id": customer_id}
    call.audit.record_ids = call.audit.subject_ids = (customer_id,)
    call.audit.fields = dict.fromkeys(values, "written")
    protector = call.state.protector
    try:
        # The key is committed first, in the key store: a failure after it leaves an
        # unused key, never a record that cannot be decrypted.
        key = (await protector.keystore.create_data_keys([customer_id]))[customer_id]
        stored = protector.protect(ENTITY, record, customer_id, key)
        stored |= {
            "created_at": now,
            "updated_at": now,
            LAST_ACTIVITY_COLUMN: now,
            PII_CLASSES_COLUMN: classes.merge(None, classification),
        }
        async with call.state.db.writer.begin() as conn:
            await conn.execute(insert(table).values(stored))
            seq = await append_in_transaction(conn, call.audit, 201)
    except SQLAlchemyError as exc:
        call.audit.seq = None
        msg = "the change could not be committed with its audit entry; nothing was stored"
        raise AuditUnavailable(msg) from exc
    _prime(call, stored, known)
    # A new customer has no consent yet: the response withholds what consent would.
    decision = await _consent_decision(call, customer_id, age_in(record))
    return await _result(call, record, seq, decision, known)


_CONSISTENCY_FIELDS = frozenset({"id_number", "birth_date"})


def _require_write_consent(
    call: GovernedCall, decision: RecordDecision | None, values: Mapping[str, object]
) -> None:
    """Writes obey the read rules: no consent for the purpose, no update; a field the
    caller could not see for lack of (separate or guardian) consent, no write."""
    if decision is None:
        return
    if decision.withheld_reason is not None:
        msg = f"withheld for purpose {call.purpose.id!r}: {decision.withheld_reason}"
        raise Forbidden(msg, reason=decision.withheld_reason)
    refused = [
        FieldProblem(name, reason)
        for name, reason in decision.field_reasons.items()
        if name in values
    ]
    if refused:
        _reject(call, refused, Forbidden)


async def update_customer(
    call: GovernedCall, customer_id: str, body: RequestBody
) -> GovernedResult:
    entity = call.state.catalog.entity(ENTITY)
    _require_some_write_right(call, ENTITY)
    values = _checked_values(call, entity, parse_body(body), creating=False)
    classification, known = await _classify(call, entity, values)
    cleared = [
        name for name in classes.scanned_fields(entity) if name in values and values[name] is None
    ]
    table = store_tables()[ENTITY]
    protector = call.state.protector
    # Decrypt only what the consistency check and the response need.
    needed = set(call.view(ENTITY).shown_columns)
    if _CONSISTENCY_FIELDS & values.keys():
        needed |= _CONSISTENCY_FIELDS
    try:
        async with call.state.db.writer.begin() as conn:
            current = (await conn.execute(select(table).where(table.c.id == customer_id))).first()

            def found() -> None:
                # Only an id that exists is recorded: a caller may send anything as the id.
                call.audit.record_ids = call.audit.subject_ids = (customer_id,)

            live_customer(current, found=found)
            assert current is not None  # noqa: S101 - live_customer checked it
            revealed, ages = await reveal_with_ages(protector, [current._mapping], needed)
            plain = revealed.rows[0]
            for name in set(AGE_FIELDS) - needed - {"birth_date"}:
                plain.pop(name, None)  # decrypted to tell a minor, not for the check
            merged = plain | values
            _check_consistency(call, merged)
            decision = await _consent_decision(call, customer_id, ages[customer_id])
            _require_write_consent(call, decision, values)
            key = await protector.keystore.current_key(customer_id)
            stored = protector.protect(ENTITY, values, customer_id, key)
            stored["updated_at"] = _now()
            if classification or cleared:
                stored[PII_CLASSES_COLUMN] = classes.merge(
                    current._mapping[PII_CLASSES_COLUMN], classification, cleared
                )
            # A write is the customer's activity (gateway.retention.activity).
            activity = {LAST_ACTIVITY_COLUMN: stored["updated_at"]}
            await conn.execute(
                update(table).where(table.c.id == customer_id).values(stored | activity)
            )
            call.audit.fields = dict.fromkeys(values, "written")
            seq = await append_in_transaction(conn, call.audit, 200)
    except (SQLAlchemyError, DataKeyMissingError) as exc:
        call.audit.seq = None
        msg = "the change could not be committed with its audit entry; nothing was stored"
        raise AuditUnavailable(msg) from exc
    _prime(call, stored, known)
    return await _result(call, merged, seq, decision, known, dict(current._mapping) | stored)
