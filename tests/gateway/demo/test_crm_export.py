"""The shipped `examples/crm_export.csv` is the demo generator's output, nothing else:
synthetic data only, reproducible, and what the README's `wardgate scan` reads."""

from __future__ import annotations

from pathlib import Path

from gateway.demo.crm_export import COLUMNS, ROWS, crm_export_csv

SHIPPED = Path(__file__).resolve().parents[3] / "examples" / "crm_export.csv"


def test_given_the_shipped_sample_then_it_is_exactly_the_generator_output() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == crm_export_csv()


def test_given_the_generator_then_it_writes_a_header_and_one_row_per_customer() -> None:
    lines = crm_export_csv().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == ROWS + 1
