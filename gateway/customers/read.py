"""The governed read pipeline: fetch only what may be shown, mask it, audit it, answer.

Per request: one query for the rows (plus one existence check for related records),
one batched PII detection for the free text shown, one audit append; no per-record
queries and no policy evaluation. The audit entry of a read that shows free text carries
the types and counts of personal data detected in it (`classification`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, select

from gateway.approvals.service import append_counted, count_records, spend_token
from gateway.consents.store import CONSENT_COLUMN, consent_history_column
from gateway.customers import age
from gateway.customers.live import live_customer
from gateway.db.schema import blind_index_column, store_tables
from gateway.encryption.protection import Revealed, copy_rows
from gateway.governance import consent_gate as gate
from gateway.governance.call import GovernedCall
from gateway.governance.plans import EntityView
from gateway.governance.scan import scan_rows
from gateway.http.errors import BadRequest, Forbidden, NotFound
from keys import InvalidToken
from policies.consent import RecordDecision

MAX_PAGE = 500
DEFAULT_PAGE = 50


@dataclass(slots=True)
class GovernedResult:
    data: object
    governance: dict[str, object]
    next_cursor: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"data": self.data}
        if isinstance(self.data, list):
            body["next_cursor"] = self.next_cursor
        body["governance"] = self.governance
        return body


def _table(entity: str) -> Table:
    return store_tables()[entity]


def _selected(view: EntityView, entity: str) -> tuple[str, ...]:
    """Shown columns plus what the pipeline needs: id, owner, erasure mark."""
    needed = ["id"]
    if entity == "customers":
        needed.append("erased_at")
    else:
        needed.append("customer_id")
    return view.shown_columns + tuple(name for name in needed if name not in view.shown_columns)


def _columns(table: Table, columns: tuple[str, ...], consent_dialect: str | None) -> list[Any]:
    selected: list[Any] = [table.c[name] for name in columns]
    if consent_dialect is not None:
        # The customer's consent history rides along: no extra query per page.
        selected.append(consent_history_column(table.c.id, consent_dialect))
    return selected


@lru_cache(maxsize=512)
def _by_id_statement(
    entity: str, columns: tuple[str, ...], consent_dialect: str | None = None
) -> Select[tuple[object, ...]]:
    table = _table(entity)
    return select(*_columns(table, columns, consent_dialect)).where(
        table.c.id == bindparam("record_id")
    )


@lru_cache(maxsize=512)
def _page_statement(
    entity: str,
    columns: tuple[str, ...],
    *,
    after: bool,
    scoped: bool,
    lookup: str | None = None,
    consent_dialect: str | None = None,
) -> Select[tuple[object, ...]]:
    table = _table(entity)
    query = select(*_columns(table, columns, consent_dialect))
    if entity == "customers":
        query = query.where(table.c.erased_at.is_(None))
    if scoped:
        query = query.where(table.c.customer_id == bindparam("customer_id"))
    if lookup is not None:
        query = query.where(table.c[blind_index_column(lookup)] == bindparam("lookup"))
    if after:
        query = query.where(table.c.id > bindparam("after_id"))
    return query.order_by(table.c.id).limit(bindparam("limit"))


def _with_export(fields: dict[str, str], export: str | None) -> dict[str, str]:
    """The audit entry of a read that spent an export token names the request."""
    return fields if export is None else fields | {"export:request": export}


def _require_view(call: GovernedCall, entity: str) -> EntityView:
    view = call.view(entity)
    if not view.any_visible:
        call.audit.fields = dict(view.governance)
        msg = f"your roles may see no field of {entity} for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="no_access")
    return view


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE
    # isascii: str.isdigit accepts superscripts and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        msg = f"limit must be a whole number from 1 to {MAX_PAGE}"
        raise BadRequest(msg, reason="invalid_limit")
    return int(raw)


def _cursor_context(call: GovernedCall, entity: str, scope: str) -> bytes:
    return f"{entity}|{scope}|{call.purpose.id}".encode()


def _open_cursor(call: GovernedCall, cursor: str | None, entity: str, scope: str) -> str | None:
    if not cursor:
        return None
    try:
        return call.state.cursors.open(cursor, _cursor_context(call, entity, scope)).decode()
    except (InvalidToken, UnicodeDecodeError):
        msg = "cursor is not one this gateway issued for this listing"
        raise BadRequest(msg, reason="invalid_cursor") from None


def _governance_with_failures(
    call: GovernedCall, entity: str, failures: list[tuple[str, str]], *, single: bool
) -> dict[str, object]:
    governance = call.governance(entity)
    if failures:
        fields = governance["fields"]
        assert isinstance(fields, dict)  # noqa: S101 - built just above
        if single:
            for _, name in failures:
                fields[name] = "withheld:integrity_error"
        else:
            governance["integrity_errors"] = [
                {"id": record_id, "field": name} for record_id, name in failures
            ]
    return governance


def _stored_texts(view: EntityView, rows: list[Mapping[Any, Any]]) -> dict[str, dict[str, object]]:
    """The stored (encrypted) free text of `rows` by record id: the detection cache key."""
    if not view.scanned:
        return {}
    return {str(row["id"]): {name: row.get(name) for name in view.scanned} for row in rows}


def _owner(entity: str, row: Mapping[str, object]) -> str:
    return str(row["id"] if entity == "customers" else row["customer_id"])


def _gated(call: GovernedCall, entity: str) -> tuple[tuple[str, str, bool], ...] | None:
    """The consent-relevant fields shown, or None when this purpose needs no check."""
    fields = gate.gated_fields(call, entity)
    return fields if gate.needs_gate(call.purpose, fields) else None


def _dialect(call: GovernedCall) -> str:
    return "sqlite" if call.state.db.is_sqlite else "postgresql"


async def _gate_rows(
    call: GovernedCall,
    entity: str,
    rows: list[Mapping[Any, Any]],
    fields: tuple[tuple[str, str, bool], ...] | None,
    parent: gate.Gate | None = None,
) -> tuple[gate.Gate | None, Revealed]:
    """Decide consent for every record, then decrypt what it will show.

    A customer's decision rests on the consent history its row carries and, where the
    decision for a minor differs from an adult's, on its age (the birth date, else the
    ID number); related records take their parent customer's decision, made before
    their rows were read (`parent`). Where the age does not decide, a record withheld
    whole is not decrypted at all, nor is a field consent withholds; where it does,
    what is shown and what tells the age are decrypted together, as before. Withheld
    ciphertexts stay in the rows: the caller drops them with the record or field
    before anything is rendered."""
    view = call.view(entity)
    shown = view.shown_columns
    if fields is None:
        return parent, await call.state.protector.reveal(entity, rows, shown)
    plain = copy_rows(rows)
    if parent is not None:
        page = await call.state.protector.sealed_page(entity, plain, shown)
        failures: list[tuple[str, str]] = []
        for index, row in enumerate(plain):
            failures += page.open_rest(index, parent.record(_owner(entity, row)).field_reasons)
        return parent, Revealed(plain, failures)
    customers = entity == "customers"
    page = await call.state.protector.sealed_page(
        entity, plain, (*age.AGE_FIELDS, *shown) if customers else shown
    )
    today = dt.datetime.now(dt.UTC).date()
    decide = gate.record_decider(call, fields)
    decisions: dict[str, RecordDecision] = {}
    failures = []
    # Decrypted to tell a minor, never shown; the consent history is dropped too.
    hidden = (CONSENT_COLUMN, *(name for name in age.AGE_FIELDS if name not in shown))
    for index, row in enumerate(plain):
        owner = _owner(entity, row)
        history = row.get(CONSENT_COLUMN)
        decision = decide(owner, False, history)
        if customers:
            as_minor = decide(owner, True, history)
            if as_minor != decision:
                # The age decides: its fields and everything shown are opened in one
                # pass (a second pass per record would cost more than the fields a
                # minor's decision withholds), and the caller drops what it withholds.
                failed = page.open_rest(index)
                failures += failed
                unreadable = any(name in age.AGE_FIELDS for _, name in failed)
                if age.age_in(row, unreadable=unreadable).minor_on(today):
                    decision = as_minor
        decisions[owner] = decision
        if decision.withheld_reason is None:
            failures += page.open_rest(index, decision.field_reasons)
        for name in hidden:
            row.pop(name, None)
    return gate.Gate(decisions), Revealed(plain, failures)


async def read_one(call: GovernedCall, entity: str, record_id: str) -> GovernedResult:
    view = _require_view(call, entity)
    export = await spend_token(call, entity, view.shown_columns, {"id": record_id}, 1)
    columns = _selected(view, entity)
    fields = _gated(call, entity) if entity == "customers" else None
    statement = _by_id_statement(entity, columns, _dialect(call) if fields else None)
    params = {"record_id": record_id, "consent_purpose": call.purpose.id}
    row = await call.state.db.fetch_first(statement, params)
    if entity == "customers":

        def found() -> None:
            call.audit.record_ids = call.audit.subject_ids = (record_id,)

        live_customer(row, found=found)
    elif row is None:
        msg = f"no {entity} record with that id"
        raise NotFound(msg)
    else:
        call.audit.record_ids = (record_id,)
    assert row is not None  # noqa: S101 - checked just above
    decided, revealed = await _gate_rows(call, entity, [row._mapping], fields)
    plain = revealed.rows[0]
    governance = _governance_with_failures(call, entity, revealed.failures, single=True)
    labels = governance["fields"]
    assert isinstance(labels, dict)  # noqa: S101 - built just above
    in_text: set[str] = set()
    if decided is not None:
        decision = decided.record(_owner(entity, plain))
        if decision.withheld_reason is not None:
            # Refused whole: nothing was shown, so the entry lists no field effects
            # (its outcome and reason say why).
            call.audit.fields = {}
            msg = f"withheld for purpose {call.purpose.id!r}: {decision.withheld_reason}"
            raise Forbidden(msg, reason=decision.withheld_reason)
        reasons, in_text = gate.split_reasons(
            call.state.catalog.entity(entity), decision.field_reasons
        )
        for name, reason in reasons.items():
            plain.pop(name, None)
            labels[name] = f"withheld:{reason}"
    counted = count_records(call, 1) if export is None else None
    call.audit.fields = _with_export(dict(labels), export)
    call.audit.classification = await scan_rows(
        call, entity, [plain], [in_text], stored=_stored_texts(view, [row._mapping])
    )
    data = view.render(plain)
    governance["audit_id"] = await append_counted(call, counted)
    return GovernedResult(data=data, governance=governance)


async def _decide_parent(
    call: GovernedCall,
    customer_id: str,
    parent_row: Mapping[Any, Any],
    fields: tuple[tuple[str, str, bool], ...],
) -> gate.Gate:
    """Consent for a customer's related records, decided on the customer before any of
    them is read: a customer without the consent the purpose needs is refused alike
    whether it has such records or none (no oracle on their existence)."""
    ages = await age.reveal_ages(call.state.protector, [parent_row])
    minor = ages[customer_id].minor_on(dt.datetime.now(dt.UTC).date())
    decided = gate.decide_histories(
        call, {customer_id: (minor, parent_row.get(CONSENT_COLUMN))}, fields
    )
    reason = decided.record(customer_id).withheld_reason
    if reason is not None:
        msg = f"withheld for purpose {call.purpose.id!r}: {reason}"
        raise Forbidden(msg, reason=reason)
    return decided


async def _require_live_customer(
    call: GovernedCall, customer_id: str, consent_dialect: str | None
) -> Mapping[Any, Any]:
    found = await call.state.db.fetch_first(
        _by_id_statement("customers", ("id", "erased_at", *age.AGE_FIELDS), consent_dialect),
        {"record_id": customer_id, "consent_purpose": call.purpose.id},
    )
    return live_customer(found)


async def read_page(
    call: GovernedCall,
    entity: str,
    *,
    limit: str | None,
    cursor: str | None,
    customer_id: str | None = None,
    lookup: tuple[str, str] | None = None,
) -> GovernedResult:
    """A page of `entity`: all, one customer's related records, or a blind-index lookup.

    `limit` is the query parameter as sent: it is checked only once the caller is known
    to see the entity at all, so a caller without the right learns nothing from a 400."""
    view = _require_view(call, entity)
    page_size = parse_limit(limit)
    scope = customer_id or (f"lookup:{lookup[0]}:{lookup[1]}" if lookup else "*")
    # The lookup value is never part of a scope: the field looked up by is.
    confined = {"customer_id": customer_id} if customer_id else {}
    confined |= {"lookup": lookup[0]} if lookup else {}
    export = await spend_token(call, entity, view.shown_columns, confined, page_size)
    after_id = _open_cursor(call, cursor, entity, scope)
    columns = _selected(view, entity)
    fields = _gated(call, entity)
    consent_dialect = _dialect(call) if fields else None
    params: dict[str, object] = {"limit": page_size + 1, "consent_purpose": call.purpose.id}
    if after_id is not None:
        params["after_id"] = after_id
    if customer_id is not None:
        params["customer_id"] = customer_id
    if lookup is not None:
        params["lookup"] = lookup[1]
    statement = _page_statement(
        entity,
        columns,
        after=after_id is not None,
        scoped=customer_id is not None,
        lookup=lookup[0] if lookup else None,
        consent_dialect=consent_dialect if entity == "customers" else None,
    )
    parent: gate.Gate | None = None
    if customer_id is not None:
        parent_row = await _require_live_customer(call, customer_id, consent_dialect)
        # Recorded only once it is known to name a customer: a caller may type
        # anything (a phone number) into the path.
        call.audit.subject_ids = (customer_id,)
        if fields is not None:
            parent = await _decide_parent(call, customer_id, parent_row, fields)
    rows = await call.state.db.fetch_all(statement, params)
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    mappings: list[Mapping[Any, Any]] = [row._mapping for row in rows]
    decided, revealed = await _gate_rows(call, entity, mappings, fields, parent)
    next_cursor = None
    if has_more and rows:
        next_cursor = call.state.cursors.seal(
            str(rows[-1].id).encode(), _cursor_context(call, entity, scope)
        )
    governance = _governance_with_failures(call, entity, revealed.failures, single=False)
    kept: list[dict[str, object]] = []
    in_text: list[set[str]] = []
    withheld_fields: dict[str, dict[str, str]] = {}
    withheld_records = 0
    spec = call.state.catalog.entity(entity)
    for plain in revealed.rows:
        categories: set[str] = set()
        if decided is not None:
            decision = decided.record(_owner(entity, plain))
            if decision.withheld_reason is not None:
                # Never for related records: their parent was refused up front.
                withheld_records += 1
                continue
            reasons, categories = gate.split_reasons(spec, decision.field_reasons)
            if reasons:
                withheld_fields[str(plain["id"])] = reasons
                for name in reasons:
                    plain.pop(name, None)
        kept.append(plain)
        in_text.append(categories)
    # Taken before the entry names any record: a refused read's entry names none.
    counted = count_records(call, len(kept)) if export is None else None
    ids = tuple(str(plain["id"]) for plain in kept)
    call.audit.record_ids = ids
    call.audit.subject_ids = (customer_id,) if customer_id else ids if entity == "customers" else ()
    governance["withheld_records"] = withheld_records
    if withheld_fields:
        governance["withheld_fields"] = withheld_fields
    call.audit.fields = _with_export(dict(view.governance), export)
    call.audit.classification = await scan_rows(
        call, entity, kept, in_text, stored=_stored_texts(view, mappings)
    )
    data = [view.render(plain) for plain in kept]
    governance["audit_id"] = await append_counted(call, counted)
    return GovernedResult(data=data, governance=governance, next_cursor=next_cursor)
