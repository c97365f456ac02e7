"""Import files written as an operator's export would hold them, and the audit entries an
import leaves (for `wardgate import` and `wardgate consents import` alike)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.bulk.report import ImportReport
from tests.helpers.store import Store

Row = dict[str, Any]


def write_csv(path: Path, rows: Sequence[Row], header: Sequence[str]) -> Path:
    """`rows` under `header`; a name a row lacks is an empty cell."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(name, "") for name in header])
    return path


def write_jsonl(path: Path, lines: Sequence[Row | str]) -> Path:
    """One line per item: a row as JSON, a string as it is (to write broken lines)."""
    text = "".join(
        (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
        for line in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


def as_json(value: Any) -> Any:
    """A JSON column as read back: decoded already on PostgreSQL, text on SQLite."""
    return value if isinstance(value, list | dict) else json.loads(str(value))


def audit_entries(store: Store, report: ImportReport) -> list[dict[str, Any]]:
    """The entries the import of `report` wrote (under its request id), in log order."""
    rows = store.sql(
        "SELECT * FROM audit_events WHERE request_id = :r ORDER BY seq", {"r": report.request_id}
    )
    return [dict(row._mapping) for row in rows]


def imported_ids(store: Store, report: ImportReport) -> list[str]:
    """The ids the import wrote, in file order: each batch's entry lists its records in
    order."""
    return [i for entry in audit_entries(store, report) for i in as_json(entry["record_ids"])]
