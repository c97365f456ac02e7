"""Seven days of the log at a glance: requests per purpose per day, denials by reason,
and the principals that read the most records. An audit read like any other (the
`audit:read` right; the caller's request leaves its entry)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select

from audit import Outcome
from audit.schema import audit_events
from gateway.compliance import log_reader
from gateway.compliance.reads import require_audit_right
from gateway.governance.call import GovernedCall

DAYS = 7
TOP = 8
NO_PURPOSE = "-"
RECORD_READS = frozenset(
    {"customers.read", "customers.list", "customers.lookup", "interactions.list", "orders.list"}
)
"""The actions that hand customer records to the caller (their `record_ids` are counted)."""


@dataclass(frozen=True, slots=True)
class Activity:
    days: tuple[str, ...]
    """The local dates covered, oldest first (`2026-12-03`)."""
    per_purpose_day: dict[str, dict[str, int]] = field(default_factory=dict)
    """{purpose: {day: requests}}"""
    denials_by_reason: dict[str, int] = field(default_factory=dict)
    top_readers: list[tuple[str, int]] = field(default_factory=list)
    """(principal, records read), most first."""


def _count(value: object) -> int:
    decoded = orjson.loads(value) if isinstance(value, str | bytes) else value
    return len(decoded) if isinstance(decoded, list) else 0


async def activity(call: GovernedCall, zone: str, now: dt.datetime | None = None) -> Activity:
    """The last `DAYS` local days (in `zone`) of the log, counted."""
    require_audit_right(call)
    tz = ZoneInfo(zone)
    today = (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()
    first = today - dt.timedelta(days=DAYS - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    days = tuple((first + dt.timedelta(days=n)).isoformat() for n in range(DAYS))
    query = select(
        audit_events.c.occurred_at,
        audit_events.c.purpose,
        audit_events.c.outcome,
        audit_events.c.reason,
        audit_events.c.principal_id,
        audit_events.c.action,
        audit_events.c.record_ids,
    ).where(audit_events.c.occurred_at >= start.isoformat(timespec="microseconds"))
    per_purpose: dict[str, Counter[str]] = {}
    denials: Counter[str] = Counter()
    readers: Counter[str] = Counter()
    # One snapshot (PostgreSQL streams rows only inside a transaction).
    async with log_reader.snapshot(call.state.db) as conn:
        result = await conn.stream(query)
        async for row in result:
            day = dt.datetime.fromisoformat(row.occurred_at).astimezone(tz).date().isoformat()
            per_purpose.setdefault(row.purpose or NO_PURPOSE, Counter())[day] += 1
            if row.outcome == Outcome.DENIED:
                denials[row.reason or NO_PURPOSE] += 1
            if row.outcome == Outcome.ALLOWED and row.principal_id and row.action in RECORD_READS:
                readers[row.principal_id] += _count(row.record_ids)
    return Activity(
        days=days,
        per_purpose_day={p: dict(c) for p, c in sorted(per_purpose.items())},
        denials_by_reason=dict(denials.most_common()),
        top_readers=[(p, n) for p, n in readers.most_common(TOP) if n > 0],
    )
