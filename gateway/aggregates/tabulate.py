"""Records into a table: per position (cells and totals) the people behind it, the
records counted and the sums of the measured fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.aggregates.schemas import DimensionName
from gateway.aggregates.source import Record
from gateway.aggregates.suppression import TOTAL, Key


@dataclass(slots=True)
class Stats:
    people: set[str] = field(default_factory=set)
    records: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    """Records with a value for each measured field (the divisor of its mean)."""

    def add(self, record: Record) -> None:
        self.people.add(record.owner)
        self.records += 1
        for name, value in record.values.items():
            self.sums[name] = self.sums.get(name, 0.0) + value
            self.counts[name] = self.counts.get(name, 0) + 1


def matches(record: Record, filters: Mapping[DimensionName, frozenset[str]]) -> bool:
    return all(record.dims.get(dim) in allowed for dim, allowed in filters.items())


def position_keys(key: Key) -> list[Key]:
    """A cell and every total it counts towards."""
    if len(key) == 0:
        return [()]
    if len(key) == 1:
        return [key, (TOTAL,)]
    row, col = key
    return [key, (row, TOTAL), (TOTAL, col), (TOTAL, TOTAL)]


def tabulate(
    records: Sequence[Record],
    group_by: Sequence[DimensionName],
    filters: Mapping[DimensionName, frozenset[str]],
    *,
    per_person: int | None = None,
) -> tuple[dict[Key, Stats], list[list[str]]]:
    """Stats by position, and the values seen of each dimension (sorted).

    `per_person` keeps at most that many records of one person (the first, in record
    order): differential privacy needs a bound on what one person contributes."""
    table: dict[Key, Stats] = {}
    seen: list[set[str]] = [set() for _ in group_by]
    taken: dict[str, int] = {}
    for record in records:
        if not matches(record, filters):
            continue
        if per_person is not None:
            if taken.get(record.owner, 0) >= per_person:
                continue
            taken[record.owner] = taken.get(record.owner, 0) + 1
        key = tuple(record.dims[dim] for dim in group_by)
        for index, value in enumerate(key):
            seen[index].add(value)
        for position in position_keys(key):
            table.setdefault(position, Stats()).add(record)
    return table, [sorted(values) for values in seen]
