"""Legal holds: a customer under a hold is kept whatever retention says (and a DSR
deletion must not erase them either: `is_on_legal_hold`).

A hold is set by the DPO with a reason word and a note, and released later with a
reason word (and an optional note). `legal_holds` keeps one row per hold; a row changes
once, when its hold is released, and is never deleted (database triggers), so the
table is the hold history. At most one hold per customer is active at a time.
Notes are stored, never logged or audited: they may name people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import ColumnElement, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from ulid import ULID

from gateway.customers.live import live_customer
from gateway.db.schema import customers_table, legal_holds
from gateway.http.errors import Conflict, FieldProblem, Unprocessable

HOLD_REASONS = (
    "litigation",
    "regulatory_inquiry",
    "law_enforcement",
    "statutory_retention",
    "other",
)
"""Why a hold is set (stable words)."""
RELEASE_REASONS = ("case_closed", "obligation_ended", "set_in_error", "other")
"""Why a hold is released (stable words)."""
MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    customer_id: str
    reason: str
    note: str
    set_by: str
    set_at: str
    released_by: str | None
    released_at: str | None
    release_reason: str | None
    release_note: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "active": self.active,
            "reason": self.reason,
            "note": self.note,
            "set_by": self.set_by,
            "set_at": self.set_at,
            "released_by": self.released_by,
            "released_at": self.released_at,
            "release_reason": self.release_reason,
            "release_note": self.release_note,
        }


def _hold(row: Any) -> Hold:
    return Hold(**{f.name: row._mapping[f.name] for f in fields(Hold)})


def active_hold(customer_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL: the customer with this id is under an active hold (for scans in one query)."""
    return exists().where(
        legal_holds.c.customer_id == customer_id, legal_holds.c.released_at.is_(None)
    )


async def is_on_legal_hold(conn: AsyncConnection, customer_id: str) -> bool:
    """Whether an active legal hold keeps this customer from erasure (retention, DSR)."""
    found = await conn.execute(
        select(legal_holds.c.id).where(
            legal_holds.c.customer_id == customer_id, legal_holds.c.released_at.is_(None)
        )
    )
    return found.first() is not None


async def hold_history(conn: AsyncConnection, customer_id: str) -> list[Hold]:
    """Every hold of the customer, oldest first."""
    rows = await conn.execute(
        select(legal_holds)
        .where(legal_holds.c.customer_id == customer_id)
        .order_by(legal_holds.c.set_at, legal_holds.c.id)
    )
    return [_hold(row) for row in rows]


def check_words(
    reason: object, note: object, reasons: tuple[str, ...], *, note_required: bool
) -> tuple[str, str | None]:
    """The reason word and note of a hold change, or 422 naming each bad field."""
    problems: list[FieldProblem] = []
    if reason is None:
        problems.append(FieldProblem("reason", "required"))
    elif not isinstance(reason, str) or reason not in reasons:
        problems.append(FieldProblem("reason", "unknown_reason"))
    if note is None or (isinstance(note, str) and not note.strip()):
        if note_required:
            problems.append(FieldProblem("note", "required"))
        note = None
    elif not isinstance(note, str):
        problems.append(FieldProblem("note", "invalid_type"))
    elif len(note) > MAX_NOTE:
        problems.append(FieldProblem("note", "too_long"))
    if problems:
        msg = "invalid legal hold: " + ", ".join(p.field for p in problems)
        raise Unprocessable(msg, reason=problems[0].reason, errors=tuple(problems))
    assert isinstance(reason, str)  # noqa: S101 - checked above
    return reason, note if isinstance(note, str) else None


async def _require_customer(conn: AsyncConnection, customer_id: str) -> None:
    table = customers_table()
    row = (await conn.execute(select(table.c.erased_at).where(table.c.id == customer_id))).first()
    live_customer(row)


async def set_hold(
    conn: AsyncConnection,
    customer_id: str,
    body: Mapping[str, object],
    *,
    by: str,
    at: dt.datetime,
) -> Hold:
    """Set a hold in the caller's transaction: 404/410 for a customer that is not
    there or was erased, 422 for a bad reason or note, 409 if a hold is active."""
    await _require_customer(conn, customer_id)
    reason, note = check_words(
        body.get("reason"), body.get("note"), HOLD_REASONS, note_required=True
    )
    if await is_on_legal_hold(conn, customer_id):
        msg = "this customer is already under a legal hold; release it first"
        raise Conflict(msg, reason="already_on_hold")
    values: dict[str, str] = {
        "id": f"hld_{ULID()}",
        "customer_id": customer_id,
        "reason": reason,
        "note": note or "",
        "set_by": by,
        "set_at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
    }
    await conn.execute(insert(legal_holds).values(values))
    return Hold(
        **values,
        released_by=None,
        released_at=None,
        release_reason=None,
        release_note=None,
    )


async def release_hold(
    conn: AsyncConnection,
    customer_id: str,
    body: Mapping[str, object],
    *,
    by: str,
    at: dt.datetime,
) -> Hold:
    """Release the active hold in the caller's transaction (409 if there is none).
    An erased customer's hold history is still there to be released."""
    table = customers_table()
    row = (await conn.execute(select(table.c.id).where(table.c.id == customer_id))).first()
    if row is None:
        live_customer(None)
    reason, note = check_words(
        body.get("reason"), body.get("note"), RELEASE_REASONS, note_required=False
    )
    current = (
        await conn.execute(
            select(legal_holds).where(
                legal_holds.c.customer_id == customer_id, legal_holds.c.released_at.is_(None)
            )
        )
    ).first()
    if current is None:
        msg = "this customer is not under a legal hold"
        raise Conflict(msg, reason="not_on_hold")
    released = {
        "released_by": by,
        "released_at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "release_reason": reason,
        "release_note": note,
    }
    await conn.execute(update(legal_holds).where(legal_holds.c.id == current.id).values(released))
    return replace(
        _hold(current),
        released_by=by,
        released_at=released["released_at"],
        release_reason=reason,
        release_note=note,
    )
