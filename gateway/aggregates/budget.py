"""The privacy budget ledger: ε per principal, purpose and period, in the store.

A debit is one conditional UPDATE (`spent + ε <= limit`): the database serializes
concurrent debits of the same row (SQLite's write lock, PostgreSQL's row lock), so two
workers or processes can never both spend the last of a budget. Periods are fixed
windows of `period_days` UTC days counted from 1970-01-01; the budget renews at the
start of the next window. Amounts are kept in millionths of ε, rounded up.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.schema import privacy_budget
from policies.purposes import DifferentialPrivacy

MICRO = 1_000_000
_EPOCH = dt.date(1970, 1, 1)


def micro(epsilon: float) -> int:
    return math.ceil(epsilon * MICRO - 1e-6)


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.date
    renews_at: dt.datetime


def period_of(settings: DifferentialPrivacy, now: dt.datetime) -> Period:
    days = (now.date() - _EPOCH).days
    start = _EPOCH + dt.timedelta(days=days - days % settings.period_days)
    end = start + dt.timedelta(days=settings.period_days)
    return Period(start, dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC))


@dataclass(frozen=True, slots=True)
class Debit:
    granted: bool
    amount_micro: int
    """What this answer costs."""
    spent_micro: int
    """Spent in the period after this debit (or, refused, before it)."""
    limit_micro: int
    period: Period

    @property
    def left(self) -> float:
        return max(0, self.limit_micro - self.spent_micro) / MICRO


async def debit(
    engine: AsyncEngine,
    *,
    principal: str,
    purpose: str,
    settings: DifferentialPrivacy,
    epsilon: float,
    now: dt.datetime | None = None,
) -> Debit:
    """Spend `epsilon` of the principal's budget for this period, all or nothing."""
    period = period_of(settings, now or dt.datetime.now(dt.UTC))
    key = {
        "principal_id": principal,
        "purpose": purpose,
        "period_start": period.start.isoformat(),
    }
    limit = micro(settings.epsilon_per_period)
    amount = micro(epsilon)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(privacy_budget).values(**key, spent_micro=0))
    except IntegrityError:
        pass  # the row of this period exists (perhaps another process made it just now)
    where = (
        (privacy_budget.c.principal_id == principal)
        & (privacy_budget.c.purpose == purpose)
        & (privacy_budget.c.period_start == key["period_start"])
    )
    async with engine.begin() as conn:
        result = await conn.execute(
            update(privacy_budget)
            .where(where, privacy_budget.c.spent_micro + amount <= limit)
            .values(spent_micro=privacy_budget.c.spent_micro + amount)
        )
        granted = result.rowcount == 1
        spent = (await conn.execute(select(privacy_budget.c.spent_micro).where(where))).scalar_one()
    return Debit(
        granted=granted,
        amount_micro=amount,
        spent_micro=int(spent),
        limit_micro=limit,
        period=period,
    )
