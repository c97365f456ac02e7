"""Consent history in the store: one query loads a page's worth, the state is derived."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Label, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection
from ulid import ULID

from gateway.db.schema import consents
from gateway.retention.activity import record_activity
from policies.consent import ConsentEvent, SeparateScope


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _event(row: Any) -> ConsentEvent:
    at = _time(row.at)
    assert at is not None  # noqa: S101 - NOT NULL column
    return ConsentEvent(
        customer_id=row.customer_id,
        purpose=row.purpose,
        kind=row.kind,
        at=at,
        channel=row.channel,
        notice_version=row.notice_version,
        evidence_hash=row.evidence_hash,
        expires_at=_time(row.expires_at),
        separate=frozenset(SeparateScope(s) for s in row.separate),
        guardian_ref=row.guardian_ref,
        recorded_by=row.recorded_by,
    )


async def consent_events(
    conn: AsyncConnection, customer_ids: Iterable[str], purpose: str | None = None
) -> list[ConsentEvent]:
    """Every consent event of these customers (for one purpose, or all), oldest first."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    query = select(consents).where(consents.c.customer_id.in_(ids))
    if purpose is not None:
        query = query.where(consents.c.purpose == purpose)
    rows = (await conn.execute(query.order_by(consents.c.at, consents.c.id))).all()
    return [_event(row) for row in rows]


CONSENT_COLUMN = "consent_history"


def consent_history_column(owner: ColumnElement[Any], dialect: str) -> Label[Any]:
    """A correlated scalar subquery: the owner's consent history for `:consent_purpose`,
    as one JSON array per row, so a page and its consents come back in ONE statement."""
    row = (
        consents.c.kind,
        consents.c.at,
        consents.c.id,
        consents.c.separate,
        consents.c.guardian_ref,
        consents.c.expires_at,
        consents.c.channel,
        consents.c.notice_version,
    )
    if dialect == "postgresql":
        aggregate = func.json_agg(func.json_build_array(*row))
    else:
        items = [func.json(c) if c is consents.c.separate else c for c in row]
        aggregate = func.json_group_array(func.json_array(*items))
    history = (
        select(aggregate)
        .where(consents.c.customer_id == owner, consents.c.purpose == bindparam("consent_purpose"))
        .scalar_subquery()
    )
    return history.label(CONSENT_COLUMN)


def events_from_history(customer_id: str, purpose: str, raw: object) -> list[ConsentEvent]:
    """Consent events out of the JSON the history column carries, oldest first."""
    if raw is None:
        return []
    items = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
    assert isinstance(items, list)  # noqa: S101 - built by consent_history_column
    events = []
    for kind, at, _event_id, separate, guardian, expires_at, channel, notice in sorted(
        items, key=lambda item: (item[1], item[2])
    ):
        events.append(
            ConsentEvent(
                customer_id=customer_id,
                purpose=purpose,
                kind=kind,
                at=dt.datetime.fromisoformat(at),
                channel=channel or "",
                notice_version=notice or "",
                expires_at=_time(expires_at),
                separate=frozenset(SeparateScope(s) for s in separate or ()),
                guardian_ref=guardian,
            )
        )
    return events


async def append_consent(conn: AsyncConnection, event: ConsentEvent, request_id: str) -> str:
    consent_id = f"cns_{ULID()}"
    await conn.execute(
        insert(consents).values(
            id=consent_id,
            customer_id=event.customer_id,
            purpose=event.purpose,
            kind=event.kind,
            at=event.at.isoformat(timespec="microseconds"),
            channel=event.channel,
            notice_version=event.notice_version,
            evidence_hash=event.evidence_hash,
            expires_at=None if event.expires_at is None else event.expires_at.isoformat(),
            separate=sorted(s.value for s in event.separate),
            guardian_ref=event.guardian_ref,
            recorded_by=event.recorded_by,
            request_id=request_id,
        )
    )
    # A consent change is the customer's activity (gateway.retention.activity).
    await record_activity(conn, {event.customer_id: event.at})
    return consent_id
