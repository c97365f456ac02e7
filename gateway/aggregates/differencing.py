"""The differencing rule (differential privacy off): no answer may differ from an
earlier answer of the same principal by fewer than k people.

Every released position (cell or total) describes a population by a predicate: for
each dimension, the set of values it may take (from the filters and the cell's own
values; absent: any). The rule, exactly:

1. the history is the principal's exact answers for the same purpose and entity, the
   last `HISTORY_ANSWERS` within `HISTORY_DAYS`;
2. for each position P the new answer releases and each position Q of the history
   where one predicate contains the other (every dimension the wider one constrains is
   constrained by the narrower one to a subset of its values), the difference cohort
   is |wider| − |narrower|, both counted on the current data; for P and Q with the
   same predicate it is the change of Q's cohort since Q was released;
3. a difference cohort d with 0 < d < k refuses the whole query (`differencing_risk`).

Limits, stated honestly: only nested predicates are compared (two overlapping
populations are caught once their intersection or union is asked, as it must be for
an exact subtraction); counts of people are compared, not sums, so two sums over the
same people released at different times are not compared; answers beyond the history
window are forgotten; and it is about one principal: two principals who pool their
answers are not caught. With differential privacy on, the rule is off and every answer
spends budget instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.aggregates.schemas import DimensionName
from gateway.aggregates.source import Record
from gateway.db.schema import aggregate_answers

HISTORY_DAYS = 90
HISTORY_ANSWERS = 500

Predicate = dict[str, frozenset[str]]


def contains(wide: Predicate, narrow: Predicate) -> bool:
    """Whether every population `narrow` admits is admitted by `wide`."""
    return all(dim in narrow and narrow[dim] <= values for dim, values in wide.items())


def _cohort(records: Sequence[Record], predicate: Predicate) -> int:
    return len(
        {
            r.owner
            for r in records
            if all(r.dims.get(DimensionName(dim)) in values for dim, values in predicate.items())
        }
    )


def _stored(predicate: Predicate) -> dict[str, list[str]]:
    return {dim: sorted(values) for dim, values in sorted(predicate.items())}


def _loaded(raw: Mapping[str, Any]) -> Predicate:
    return {str(dim): frozenset(str(v) for v in values) for dim, values in raw.items()}


async def history(
    engine: AsyncEngine, principal: str, purpose: str, entity: str, now: dt.datetime
) -> list[tuple[Predicate, int]]:
    since = (now - dt.timedelta(days=HISTORY_DAYS)).isoformat()
    query = (
        select(aggregate_answers.c.cells)
        .where(
            aggregate_answers.c.principal_id == principal,
            aggregate_answers.c.purpose == purpose,
            aggregate_answers.c.entity == entity,
            aggregate_answers.c.answered_at >= since,
        )
        .order_by(aggregate_answers.c.id.desc())
        .limit(HISTORY_ANSWERS)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [(_loaded(cell["p"]), int(cell["n"])) for row in rows for cell in row.cells]


def risky(
    released: Sequence[tuple[Predicate, int]],
    earlier: Sequence[tuple[Predicate, int]],
    records: Sequence[Record],
    k: int,
) -> bool:
    """Whether some released position differs from an earlier one by 1 to k-1 people."""
    counted: dict[tuple[tuple[str, frozenset[str]], ...], int] = {}

    def cohort(predicate: Predicate) -> int:
        key = tuple(sorted(predicate.items()))
        if key not in counted:
            counted[key] = _cohort(records, predicate)
        return counted[key]

    for new, new_count in released:
        for old, old_count in earlier:
            if new == old:
                difference = abs(new_count - old_count)
            elif contains(old, new):
                difference = cohort(old) - new_count
            elif contains(new, old):
                difference = new_count - cohort(old)
            else:
                continue
            if 0 < difference < k:
                return True
    return False


async def remember(
    engine: AsyncEngine,
    *,
    principal: str,
    purpose: str,
    entity: str,
    released: Sequence[tuple[Predicate, int]],
    now: dt.datetime,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(aggregate_answers).values(
                principal_id=principal,
                purpose=purpose,
                entity=entity,
                answered_at=now.isoformat(),
                cells=[{"p": _stored(p), "n": n} for p, n in released],
            )
        )
