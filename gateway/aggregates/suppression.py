"""Minimum cohort with complementary suppression, for a table with its totals.

A released table of one or two dimensions carries its cells, the row and column totals
and the overall total. Each of those is a *position*; its cohort is the number of
people behind it. Primary suppression hides every position describing fewer than k
people (`below_k`). That alone is not enough: a row total minus the other cells of the
row gives the hidden cell back. Complementary suppression therefore hides further
positions (`complementary`) until no hidden position is determined by the published
ones.

"Determined" is exact linear algebra, not a rule of thumb: every line of the table
(a row, a column, the row of column totals, the column of row totals) is an equation
"cells of the line = its total". After substituting the published values, a hidden
position is recoverable exactly when its unit vector lies in the row space of the
equations over the hidden positions, i.e. when a row of their reduced row echelon form
is that unit vector. Positions are added greedily (the smallest cohort on a line of the
recoverable position) until none is recoverable.

What this does not do: it does not stop an attacker from *bounding* a hidden cell (cells
are non-negative, so a hidden cell is at most its line's total minus the published
rest), and it looks at one answer only; across answers, see `differencing`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

TOTAL = "*"
"""The value a position takes on a dimension it is totalled over."""

Key = tuple[str, ...]


class Suppressed(StrEnum):
    BELOW_K = "below_k"
    COMPLEMENTARY = "complementary"


@dataclass(frozen=True, slots=True)
class Table:
    """Cohorts of every position: cells keyed by their dimension values, totals by
    TOTAL in the dimensions summed over. Absent cells hold no one (cohort 0)."""

    dimensions: int
    cohorts: Mapping[Key, int]


def positions(values: Sequence[Sequence[str]]) -> list[Key]:
    """Every position of a table over these dimension values, totals included."""
    if not values:
        return [()]
    if len(values) == 1:
        single: list[Key] = [(v,) for v in values[0]]
        return [*single, (TOTAL,)]
    rows, cols = (*values[0], TOTAL), (*values[1], TOTAL)
    return [(r, c) for r in rows for c in cols]


def _lines(keys: Sequence[Key], dimensions: int) -> list[list[tuple[Key, int]]]:
    """Each line as (position, coefficient) pairs summing to zero: cells - total."""
    if dimensions == 0:
        return []
    if dimensions == 1:
        return [[(k, 1) for k in keys if k != (TOTAL,)] + [((TOTAL,), -1)]]
    rows = sorted({k[0] for k in keys})
    cols = sorted({k[1] for k in keys})
    lines: list[list[tuple[Key, int]]] = []
    for r in rows:  # TOTAL included: the column totals sum to the overall total
        row_line: list[tuple[Key, int]] = [((r, c), 1) for c in cols if c != TOTAL]
        lines.append([*row_line, ((r, TOTAL), -1)])
    for c in cols:
        col_line: list[tuple[Key, int]] = [((r, c), 1) for r in rows if r != TOTAL]
        lines.append([*col_line, ((TOTAL, c), -1)])
    return lines


def _recoverable(hidden: Sequence[Key], lines: Sequence[Sequence[tuple[Key, int]]]) -> Key | None:
    """A hidden position the published ones determine exactly, or None."""
    index = {key: i for i, key in enumerate(hidden)}
    matrix: list[list[Fraction]] = []
    for line in lines:
        row = [Fraction(0)] * len(hidden)
        for key, coefficient in line:
            if key in index:
                row[index[key]] += coefficient
        if any(row):
            matrix.append(row)
    pivot_row = 0
    for col in range(len(hidden)):
        found = next((r for r in range(pivot_row, len(matrix)) if matrix[r][col]), None)
        if found is None:
            continue
        matrix[pivot_row], matrix[found] = matrix[found], matrix[pivot_row]
        lead = matrix[pivot_row][col]
        matrix[pivot_row] = [value / lead for value in matrix[pivot_row]]
        for r in range(len(matrix)):
            if r != pivot_row and matrix[r][col]:
                factor = matrix[r][col]
                matrix[r] = [
                    a - factor * b for a, b in zip(matrix[r], matrix[pivot_row], strict=True)
                ]
        pivot_row += 1
    for row in matrix[:pivot_row]:
        nonzero = [i for i, value in enumerate(row) if value]
        if len(nonzero) == 1:
            return hidden[nonzero[0]]
    return None


def suppress(table: Table, k: int, keys: Sequence[Key]) -> dict[Key, Suppressed]:
    """Which positions of `keys` (every position of the table) to hide, and why."""
    cohort = {key: table.cohorts.get(key, 0) for key in keys}
    hidden: dict[Key, Suppressed] = {key: Suppressed.BELOW_K for key in keys if 0 < cohort[key] < k}
    lines = _lines(keys, table.dimensions)
    while hidden:
        # A line with one hidden position gives it away by subtraction: the common case,
        # fixed on that very line. Subtler leaks (through several lines) come from the
        # exact check, and are fixed on a line through the position they expose.
        alone = [line for line in lines if sum(key in hidden for key, _ in line) == 1]
        if alone:
            target = _smallest(alone[0], hidden, cohort)
        else:
            exposed = _recoverable(list(hidden), lines)
            if exposed is None:
                break
            target = _complement(exposed, hidden, lines, cohort)
        hidden[target] = Suppressed.COMPLEMENTARY
    return hidden


def _smallest(
    line: Sequence[tuple[Key, int]], hidden: Mapping[Key, Suppressed], cohort: Mapping[Key, int]
) -> Key:
    """The published position of `line` cheapest to hide: a non-empty cell with the
    fewest people (hiding an empty cell or a total costs the analyst more)."""
    candidates = [key for key, _ in line if key not in hidden]
    return min(candidates, key=lambda key: (cohort[key] == 0, TOTAL in key, cohort[key], key))


def _complement(
    exposed: Key,
    hidden: Mapping[Key, Suppressed],
    lines: Sequence[Sequence[tuple[Key, int]]],
    cohort: Mapping[Key, int],
) -> Key:
    """The position to hide next for `exposed`: on a line through it with published
    positions left, else the cheapest published position anywhere (which closes a cycle
    of hidden positions around it)."""
    for line in lines:
        if any(key == exposed for key, _ in line) and any(key not in hidden for key, _ in line):
            return _smallest(line, hidden, cohort)
    rest = [(key, 1) for key in cohort if key not in hidden]
    return _smallest(rest, hidden, cohort)
