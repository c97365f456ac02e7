"""The audit log as an export: JSON Lines to verify, CSV for people.

JSON Lines (`jsonl`) holds each entry exactly as it was hashed; it is what `wardgate
audit verify --offline` checks. CSV (`csv`) is for reading in a spreadsheet: one column
per entry field, in `CSV_COLUMNS` order, then the leaf hash. Its cells:

- numbers as digits; a missing value (`on_behalf_of`, an entry without
  `classification`) as an empty cell;
- lists as their items joined by `;` (`cus_01;cus_02`);
- maps as `key=value` pairs joined by `;` (`name=masked;phone=masked`);
  `classification`, a map of maps, as `field.TYPE=count` (`notes.CN_MOBILE=2`);
- a `\\`, `;` or `=` inside an item, key or value is preceded by `\\`, so a cell always
  splits back into what the entry holds;
- a cell that would start with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
  leading `'`, so a spreadsheet shows it as text rather than running it as a formula
  (request ids and `X-On-Behalf-Of` come from callers).

The file is UTF-8 with a byte order mark (spreadsheets then read Chinese correctly) and
CRLF line ends (RFC 4180). It is for reading, not for verification: use JSON Lines for
that.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from enum import StrEnum

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.canonical import ENTRY_FIELDS, OPTIONAL_ENTRY_FIELDS
from gateway.compliance.log_reader import export_line, stream_entries

CSV_COLUMNS = (*ENTRY_FIELDS, *OPTIONAL_ENTRY_FIELDS, "leaf_hash")
BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


MEDIA_TYPES = {ExportFormat.JSONL: "application/x-ndjson", ExportFormat.CSV: "text/csv"}


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace("=", "\\=")


def _pairs(mapping: Mapping[str, object], prefix: str = "") -> list[str]:
    pairs: list[str] = []
    for key, value in mapping.items():
        name = prefix + _escaped(str(key))
        if isinstance(value, Mapping):
            pairs += _pairs(value, f"{name}.")
        else:
            pairs.append(f"{name}={_escaped(str(value))}")
    return pairs


def csv_cell(value: object) -> str:
    """One entry field as a spreadsheet cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, Mapping):
        text = ";".join(_pairs(value))
    elif isinstance(value, list | tuple):
        text = ";".join(_escaped(str(item)) for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")


def csv_header() -> bytes:
    return BOM.encode("utf-8") + _csv_line(list(CSV_COLUMNS))


def csv_row(canonical: bytes, stored_leaf: str) -> bytes:
    entry = orjson.loads(canonical)
    return _csv_line([csv_cell(entry.get(name)) for name in CSV_COLUMNS[:-1]] + [stored_leaf])


async def export_lines(
    conn: AsyncConnection, fmt: ExportFormat, since: str | None = None, until: str | None = None
) -> AsyncIterator[bytes]:
    """The log in `fmt`, line by line, from a connection inside one snapshot: all of it,
    or the entries that occurred in [since, until) (UTC ISO times)."""
    if fmt is ExportFormat.CSV:
        yield csv_header()
    async for seq, canonical, stored in stream_entries(conn, since, until):
        if fmt is ExportFormat.JSONL:
            yield export_line(seq, canonical, stored)
        else:
            yield csv_row(canonical, stored)
