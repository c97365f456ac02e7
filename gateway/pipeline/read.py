"""The governed read pipeline: fetch only what may be shown, mask it, audit it, answer.

Per request: one query for the rows (plus one existence check for related records),
one audit append; no per-record queries and no policy evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.audit_log import append_now
from gateway.db.schema import blind_index_column, store_tables
from gateway.errors import BadRequest, Forbidden, Gone, NotFound
from gateway.pipeline.call import GovernedCall
from gateway.pipeline.plans import EntityView
from keys import InvalidToken

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


@lru_cache(maxsize=512)
def _by_id_statement(entity: str, columns: tuple[str, ...]) -> Select[tuple[object, ...]]:
    table = _table(entity)
    return select(*(table.c[name] for name in columns)).where(table.c.id == bindparam("record_id"))


@lru_cache(maxsize=512)
def _page_statement(
    entity: str, columns: tuple[str, ...], *, after: bool, scoped: bool, lookup: str | None = None
) -> Select[tuple[object, ...]]:
    table = _table(entity)
    query = select(*(table.c[name] for name in columns))
    if entity == "customers":
        query = query.where(table.c.erased_at.is_(None))
    if scoped:
        query = query.where(table.c.customer_id == bindparam("customer_id"))
    if lookup is not None:
        query = query.where(table.c[blind_index_column(lookup)] == bindparam("lookup"))
    if after:
        query = query.where(table.c.id > bindparam("after_id"))
    return query.order_by(table.c.id).limit(bindparam("limit"))


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


async def read_one(call: GovernedCall, entity: str, record_id: str) -> GovernedResult:
    view = _require_view(call, entity)
    columns = _selected(view, entity)
    async with call.state.db.reader.connect() as conn:
        row = (
            await conn.execute(_by_id_statement(entity, columns), {"record_id": record_id})
        ).first()
    if row is None:
        msg = f"no {entity} record with that id"
        raise NotFound(msg)
    call.audit.record_ids = (record_id,)
    call.audit.subject_ids = (record_id,) if entity == "customers" else ()
    if entity == "customers" and row.erased_at is not None:
        msg = "this customer's personal information was erased"
        raise Gone(msg, reason="erased")
    revealed = await call.state.protector.reveal(entity, [row._mapping], view.shown_columns)
    governance = _governance_with_failures(call, entity, revealed.failures, single=True)
    call.audit.fields = dict(governance["fields"])  # type: ignore[call-overload]
    data = view.render(revealed.rows[0])
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(data=data, governance=governance)


async def _require_live_customer(conn: AsyncConnection, customer_id: str) -> None:
    found = await conn.execute(
        _by_id_statement("customers", ("id", "erased_at")), {"record_id": customer_id}
    )
    row = found.first()
    if row is None:
        msg = "no customers record with that id"
        raise NotFound(msg)
    if row.erased_at is not None:
        msg = "this customer's personal information was erased"
        raise Gone(msg, reason="erased")


async def read_page(
    call: GovernedCall,
    entity: str,
    *,
    limit: int,
    cursor: str | None,
    customer_id: str | None = None,
    lookup: tuple[str, str] | None = None,
) -> GovernedResult:
    """A page of `entity`: all, one customer's related records, or a blind-index lookup."""
    view = _require_view(call, entity)
    scope = customer_id or (f"lookup:{lookup[0]}:{lookup[1]}" if lookup else "*")
    after_id = _open_cursor(call, cursor, entity, scope)
    columns = _selected(view, entity)
    params: dict[str, object] = {"limit": limit + 1}
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
    )
    async with call.state.db.reader.connect() as conn:
        if customer_id is not None:
            await _require_live_customer(conn, customer_id)
            # Recorded only once it is known to name a customer: a caller may type
            # anything (a phone number) into the path.
            call.audit.subject_ids = (customer_id,)
        rows = (await conn.execute(statement, params)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    ids = tuple(str(row.id) for row in rows)
    next_cursor = None
    if has_more and ids:
        next_cursor = call.state.cursors.seal(
            ids[-1].encode(), _cursor_context(call, entity, scope)
        )
    call.audit.record_ids = ids
    call.audit.subject_ids = (customer_id,) if customer_id else ids if entity == "customers" else ()
    revealed = await call.state.protector.reveal(
        entity, [row._mapping for row in rows], view.shown_columns
    )
    governance = _governance_with_failures(call, entity, revealed.failures, single=False)
    governance["withheld_records"] = 0
    call.audit.fields = dict(view.governance)
    data = [view.render(row) for row in revealed.rows]
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(data=data, governance=governance, next_cursor=next_cursor)
