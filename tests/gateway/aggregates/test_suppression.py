"""Minimum cohort and complementary suppression against hand-built tables."""

from __future__ import annotations

import random

from gateway.aggregates.suppression import (
    TOTAL,
    Suppressed,
    Table,
    _lines,
    _recoverable,
    positions,
    suppress,
)


def _two_way(cells: dict[tuple[str, str], int]) -> Table:
    cohorts: dict[tuple[str, ...], int] = dict(cells)
    rows = {r for r, _ in cells}
    cols = {c for _, c in cells}
    for r in rows:
        cohorts[(r, TOTAL)] = sum(v for (a, _), v in cells.items() if a == r)
    for c in cols:
        cohorts[(TOTAL, c)] = sum(v for (_, b), v in cells.items() if b == c)
    cohorts[(TOTAL, TOTAL)] = sum(cells.values())
    return Table(2, cohorts)


def test_given_one_small_cell_then_the_total_cannot_give_it_back() -> None:
    """North 3, South 20, East 30, total 53: hiding North alone leaves 53-20-30 = 3."""
    table = Table(1, {("north",): 3, ("south",): 20, ("east",): 30, (TOTAL,): 53})
    hidden = suppress(table, 10, positions([["east", "north", "south"]]))
    assert hidden[("north",)] is Suppressed.BELOW_K
    # One more cell is hidden, the smallest published one, so the total does not reveal it.
    assert hidden[("south",)] is Suppressed.COMPLEMENTARY
    assert (TOTAL,) not in hidden
    assert ("east",) not in hidden


def test_given_a_hand_built_region_by_tier_table_then_no_hidden_cell_is_recoverable() -> None:
    """Beijing/gold has 4 people: its row total and its column total would each give it
    back; the answer hides a cell in its row and in its column, and closes the cycle."""
    cells = {
        ("北京市", "gold"): 4,
        ("北京市", "silver"): 25,
        ("上海市", "gold"): 18,
        ("上海市", "silver"): 30,
        ("广东省", "gold"): 40,
        ("广东省", "silver"): 50,
    }
    table = _two_way(cells)
    keys = positions([["上海市", "北京市", "广东省"], ["gold", "silver"]])
    hidden = suppress(table, 10, keys)
    assert hidden[("北京市", "gold")] is Suppressed.BELOW_K
    assert all(
        reason is Suppressed.COMPLEMENTARY
        for key, reason in hidden.items()
        if key != ("北京市", "gold")
    )
    # Row Beijing and column gold each have a second hidden position.
    assert sum(1 for key in hidden if key[0] == "北京市") >= 2
    assert sum(1 for key in hidden if key[1] == "gold") >= 2
    assert _recoverable(list(hidden), _lines(keys, 2)) is None
    # Subtracting published cells from published totals gives no hidden cell exactly.
    for row, col in hidden:
        if TOTAL in (row, col):
            continue
        row_rest = [k for k in keys if k[0] == row and TOTAL not in k and k != (row, col)]
        assert (row, TOTAL) in hidden or any(k in hidden for k in row_rest)


def test_given_random_tables_then_every_small_cell_is_hidden_and_none_is_recoverable() -> None:
    rng = random.Random(17)
    for _ in range(200):
        rows = [f"r{i}" for i in range(rng.randint(1, 6))]
        cols = [f"c{j}" for j in range(rng.randint(1, 5))]
        cells = {(r, c): rng.choice([0, 1, 3, 5, 9, 12, 20, 40]) for r in rows for c in cols}
        table = _two_way(cells)
        keys = positions([rows, cols])
        hidden = suppress(table, 10, keys)
        assert all(key in hidden for key in keys if 0 < table.cohorts.get(key, 0) < 10)
        assert _recoverable(list(hidden), _lines(keys, 2)) is None


def test_given_no_small_cell_then_nothing_is_hidden() -> None:
    table = Table(1, {("a",): 10, ("b",): 11, (TOTAL,): 21})
    assert suppress(table, 10, positions([["a", "b"]])) == {}
