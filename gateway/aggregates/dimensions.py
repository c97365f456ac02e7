"""The dimensions an aggregate may be grouped by or filtered on, and how each is
derived from a stored row: region and tier as stored, the age band from the birth date
(never the date itself), the month from the record's time, the channel as stored."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.aggregates.schemas import DimensionName, Source
from policies.consent import Age
from policies.formats._choices import CHANNELS, REGIONS, TIERS

AGE_BANDS = ("0-13", "14-17", "18-29", "30-39", "40-49", "50-59", "60+", "unknown")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
MONTHS_BACK = 24
"""With differential privacy the month dimension spans the last 24 months (a fixed
domain: which months hold data must not show through which cells exist)."""

# The time field of each related entity, for the month dimension.
TIME_FIELD = {Source.ORDERS: "ordered_at", Source.INTERACTIONS: "occurred_at"}


_BAND_LIMITS: tuple[tuple[str, int], ...] = (
    ("0-13", 14),
    ("14-17", 18),
    ("18-29", 30),
    ("30-39", 40),
    ("40-49", 50),
    ("50-59", 60),
)


def age_band(age: Age, today: dt.date) -> str:
    """The band of a customer's age on `today`; minors under 14 are a band of their own."""
    if age.born is None:
        return "unknown"
    born = age.born
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return next((label for label, upper in _BAND_LIMITS if years < upper), "60+")


def recent_months(today: dt.date, count: int = MONTHS_BACK) -> tuple[str, ...]:
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return tuple(reversed(months))


@dataclass(frozen=True, slots=True)
class DimensionSpec:
    name: DimensionName
    field: Callable[[Source], str]
    """The qualified catalog field whose category governs the dimension."""
    sources: frozenset[Source]
    domain: Callable[[dt.date], tuple[str, ...]]
    """Every value the dimension can take (for DP, and to check filter values)."""

    def valid(self, value: str, today: dt.date) -> bool:
        if self.name is DimensionName.MONTH:
            return bool(_MONTH.fullmatch(value))
        return value in self.domain(today)


_ALL = frozenset(Source)
_RELATED = frozenset({Source.ORDERS, Source.INTERACTIONS})

DIMENSIONS: Mapping[DimensionName, DimensionSpec] = {
    DimensionName.REGION: DimensionSpec(
        DimensionName.REGION, lambda _: "customers.region", _ALL, lambda _: REGIONS
    ),
    DimensionName.TIER: DimensionSpec(
        DimensionName.TIER, lambda _: "customers.tier", _ALL, lambda _: TIERS
    ),
    DimensionName.AGE_BAND: DimensionSpec(
        DimensionName.AGE_BAND, lambda _: "customers.birth_date", _ALL, lambda _: AGE_BANDS
    ),
    DimensionName.MONTH: DimensionSpec(
        DimensionName.MONTH, lambda s: f"{s.value}.{TIME_FIELD[s]}", _RELATED, recent_months
    ),
    DimensionName.CHANNEL: DimensionSpec(
        DimensionName.CHANNEL, lambda s: f"{s.value}.channel", _RELATED, lambda _: CHANNELS
    ),
}
