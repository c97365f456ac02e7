"""What an answer releases: per position its measures, or the reason it is hidden."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.aggregates.schemas import DimensionName, Measure, Operation
from gateway.aggregates.suppression import TOTAL, Key, Suppressed


@dataclass(frozen=True, slots=True)
class Figures:
    """One position's numbers as released (exact, or noisy and post-processed)."""

    count: float
    sums: Mapping[str, float]
    counts: Mapping[str, float]
    """Divisor of each field's mean: records with a value (noisy: the noisy count)."""


_NOBODY = Figures(0, {}, {})


def measure_name(measure: Measure) -> str:
    return measure.op.value if measure.field is None else f"{measure.op.value}_{measure.field}"


def _value(measure: Measure, figures: Figures, digits: int) -> float | int | None:
    if measure.op is Operation.COUNT:
        return round(figures.count)
    assert measure.field is not None  # noqa: S101 - checked with the query
    total = figures.sums.get(measure.field, 0.0)
    if measure.op is Operation.SUM:
        return round(total, digits)
    divisor = figures.counts.get(measure.field, 0.0)
    return round(total / divisor, digits) if divisor > 0 else None


def render(
    group_by: Sequence[DimensionName],
    measures: Sequence[Measure],
    keys: Sequence[Key],
    figures: Mapping[Key, Figures],
    hidden: Mapping[Key, Suppressed],
    *,
    digits: int = 2,
) -> dict[str, list[dict[str, object]]]:
    """`cells` (innermost) and `totals` (TOTAL, "*", in a summed dimension); empty
    cells are left out unless hidden (an absent cell holds no one)."""
    cells: list[dict[str, object]] = []
    totals: list[dict[str, object]] = []
    for key in keys:
        total = TOTAL in key or not key
        found = figures.get(key) or _NOBODY
        if key not in hidden and not total and found.count <= 0:
            continue
        item: dict[str, object] = {d.value: v for d, v in zip(group_by, key, strict=True)}
        if key in hidden:
            item["suppressed"] = hidden[key].value
        else:
            for measure in measures:
                item[measure_name(measure)] = _value(measure, found, digits)
        (totals if total else cells).append(item)
    return {"cells": cells, "totals": totals}
