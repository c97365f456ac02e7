"""The governed read pipeline: fetch only what may be shown, mask it, audit it, answer.

Per request: one query for the rows (plus one existence check for related records),
one audit append; no per-record queries and no policy evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Select, Table, bindparam, select

from gateway.audit_log import append_now
from gateway.db.schema import store_tables
from gateway.errors import BadRequest, Forbidden, NotFound
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


def _selected(view: EntityView, *always: str) -> tuple[str, ...]:
    extra = tuple(name for name in always if name not in view.shown_columns)
    return view.shown_columns + extra


@lru_cache(maxsize=512)
def _by_id_statement(entity: str, columns: tuple[str, ...]) -> Select[tuple[object, ...]]:
    table = _table(entity)
    return select(*(table.c[name] for name in columns)).where(table.c.id == bindparam("record_id"))


@lru_cache(maxsize=512)
def _page_statement(
    entity: str, columns: tuple[str, ...], *, after: bool, scoped: bool
) -> Select[tuple[object, ...]]:
    table = _table(entity)
    query = select(*(table.c[name] for name in columns))
    if scoped:
        query = query.where(table.c.customer_id == bindparam("customer_id"))
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
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
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


async def read_one(call: GovernedCall, entity: str, record_id: str) -> GovernedResult:
    view = _require_view(call, entity)
    columns = _selected(view, "id")
    async with call.state.db.reader.connect() as conn:
        row = (
            await conn.execute(_by_id_statement(entity, columns), {"record_id": record_id})
        ).first()
    if row is None:
        msg = f"no {entity} record with that id"
        raise NotFound(msg)
    mapping = row._mapping
    call.audit.record_ids = (record_id,)
    call.audit.subject_ids = (record_id,) if entity == "customers" else ()
    call.audit.fields = dict(view.governance)
    governance = call.governance(entity)
    data = view.render(mapping)
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(data=data, governance=governance)


async def read_page(
    call: GovernedCall,
    entity: str,
    *,
    limit: int,
    cursor: str | None,
    customer_id: str | None = None,
) -> GovernedResult:
    """A page of `entity`, optionally the records of one customer (the 360° view)."""
    view = _require_view(call, entity)
    scope = customer_id or "*"
    after_id = _open_cursor(call, cursor, entity, scope)
    columns = _selected(view, "id")
    params: dict[str, object] = {"limit": limit + 1}
    if after_id is not None:
        params["after_id"] = after_id
    if customer_id is not None:
        params["customer_id"] = customer_id
    statement = _page_statement(
        entity, columns, after=after_id is not None, scoped=customer_id is not None
    )
    async with call.state.db.reader.connect() as conn:
        if customer_id is not None:
            exists = await conn.execute(
                _by_id_statement("customers", ("id",)), {"record_id": customer_id}
            )
            if exists.first() is None:
                msg = "no customers record with that id"
                raise NotFound(msg)
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
    call.audit.fields = dict(view.governance)
    governance = call.governance(entity)
    governance["withheld_records"] = 0
    data = [view.render(row._mapping) for row in rows]
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return GovernedResult(data=data, governance=governance, next_cursor=next_cursor)
