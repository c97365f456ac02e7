"""Reading an import file: CSV with a header row, or JSON Lines, row by row.

A row carries the values of the layout's fields and the problems found while reading
it, each named by line and field. A column or key whose name is not a plain identifier
may itself be a value (a CSV without its header row), so it is named by position or as
`?`, never echoed.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gateway.bulk.report import ImportProblem, ImportSourceError
from policies.catalog import Entity

# A JSON line longer than this is refused without reading it into memory: the API
# refuses request bodies of the same size by default.
MAX_LINE_BYTES = 1_048_576
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(slots=True)
class SourceRow:
    line: int
    values: dict[str, object] = field(default_factory=dict)
    """Values of the layout's fields only; anything else is already in `problems`."""
    problems: list[ImportProblem] = field(default_factory=list)
    unreadable: bool = False


class Source(Protocol):
    @property
    def bytes_read(self) -> int: ...

    def rows(self) -> Iterator[SourceRow]: ...

    def close(self) -> None: ...


def unreadable(line: int, reason: str, field_name: str = "*") -> SourceRow:
    return SourceRow(line, problems=[ImportProblem(line, field_name, reason)], unreadable=True)


def _label(name: str) -> str:
    return name if _PLAIN_NAME.fullmatch(name) else "?"


def _is_utf8(text: str) -> bool:
    # Bytes that are not UTF-8 were decoded to lone surrogates (surrogateescape).
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class CsvSource:
    """A header row of field names, then one row per record; an empty cell is absent."""

    def __init__(self, path: Path, layout: Entity) -> None:
        self._binary = path.open("rb")
        try:
            # surrogateescape: a cell that is not UTF-8 is reported as that cell's
            # problem instead of stopping the file at an unknown line.
            self._text = io.TextIOWrapper(
                self._binary, encoding="utf-8-sig", errors="surrogateescape", newline=""
            )
            self._reader = csv.reader(self._text, strict=True)
            self._columns = self._read_header(layout)
        except BaseException:
            self._binary.close()
            raise

    @property
    def bytes_read(self) -> int:
        return self._binary.tell()

    def close(self) -> None:
        self._text.close()

    def _read_header(self, layout: Entity) -> list[tuple[str | None, str]]:
        """(field name or None if unknown, label for problems) per column."""
        try:
            cells = next((cells for cells in self._reader if cells), None)
        except csv.Error:
            msg = "the CSV header row cannot be parsed"
            raise ImportSourceError(msg) from None
        if cells is None:
            msg = "the CSV file is empty: its first line must name the fields"
            raise ImportSourceError(msg)
        names = [cell.strip() for cell in cells]
        known = [name for name in names if name in layout.field_names]
        if not known:
            # Most likely a file without its header row; its first row is not echoed.
            msg = f"the first line of the CSV file must be a header of {layout.name} field names"
            raise ImportSourceError(msg)
        repeated = sorted({name for name in known if known.count(name) > 1})
        if repeated:
            msg = f"the CSV header names these fields more than once: {', '.join(repeated)}"
            raise ImportSourceError(msg)
        missing = [s.name for s in layout.fields if s.required and s.name not in known]
        if missing:
            msg = f"the CSV header has no column for required fields: {', '.join(missing)}"
            raise ImportSourceError(msg)
        return [
            (name, name)
            if name in layout.field_names
            else (None, name if _PLAIN_NAME.fullmatch(name) else f"column {index}")
            for index, name in enumerate(names, start=1)
        ]

    def rows(self) -> Iterator[SourceRow]:
        reader, columns = self._reader, self._columns
        previous = reader.line_num
        while True:
            line = previous + 1  # a quoted cell may span lines: a record starts here
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                previous = reader.line_num
                yield unreadable(line, "invalid_csv")
                continue
            previous = reader.line_num
            if not any(cells):
                continue  # a blank line, or only separators
            if len(cells) != len(columns):
                yield unreadable(line, "wrong_cell_count")
                continue
            row = SourceRow(line)
            for (name, label), cell in zip(columns, cells, strict=True):
                if cell == "":
                    continue
                if name is None:
                    row.problems.append(ImportProblem(line, label, "unknown_field"))
                elif not _is_utf8(cell):
                    row.problems.append(ImportProblem(line, name, "invalid_encoding"))
                else:
                    row.values[name] = cell
            yield row


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__("duplicate key")
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKeyError(key)
        document[key] = value
    return document


def _no_constants(_name: str) -> object:
    # NaN and Infinity are not JSON; Python's parser accepts them unless told not to.
    msg = "NaN and Infinity are not JSON"
    raise ValueError(msg)


class JsonlSource:
    """One JSON object per line (UTF-8, `\\n`-separated); blank lines are skipped."""

    def __init__(self, path: Path, layout: Entity) -> None:
        self._binary = path.open("rb")
        self._fields = frozenset(layout.field_names)

    @property
    def bytes_read(self) -> int:
        return self._binary.tell()

    def close(self) -> None:
        self._binary.close()

    def _parse(self, line: int, raw: bytes) -> SourceRow:
        try:
            document = json.loads(
                raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constants
            )
        except _DuplicateKeyError as duplicate:
            return unreadable(line, "duplicate_field", _label(duplicate.key))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return unreadable(line, "invalid_json")
        if not isinstance(document, dict):
            return unreadable(line, "invalid_body")
        row = SourceRow(line)
        for key, value in document.items():
            if key in self._fields:
                row.values[key] = value
            else:
                row.problems.append(ImportProblem(line, _label(key), "unknown_field"))
        return row

    def rows(self) -> Iterator[SourceRow]:
        line = 0
        while raw := self._binary.readline(MAX_LINE_BYTES + 1):
            line += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the line
                    raw = self._binary.readline(MAX_LINE_BYTES)
                yield unreadable(line, "too_long")
                continue
            if line == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            if raw.strip():
                yield self._parse(line, raw)


def source_format(path: Path) -> str:
    """`csv` or `jsonl` by the file's suffix; refuses anything else and missing files."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(SUFFIXES)
        msg = f"{path.name}: the file name must end in one of {known}"
        raise ImportSourceError(msg)
    if not path.is_file():
        msg = f"{path}: no such file"
        raise ImportSourceError(msg)
    return kind


def open_source(path: Path, layout: Entity) -> Source:
    kind = source_format(path)
    try:
        return CsvSource(path, layout) if kind == "csv" else JsonlSource(path, layout)
    except OSError as exc:
        msg = f"{path}: {exc.strerror or type(exc).__name__}"
        raise ImportSourceError(msg) from None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What tells that a file was rewritten: its identity, size and modification time."""

    device: int
    inode: int
    size: int
    modified_ns: int


def fingerprint(path: Path) -> Fingerprint:
    try:
        found = os.stat(path)
    except OSError as exc:
        msg = f"{path}: {exc.strerror or type(exc).__name__}"
        raise ImportSourceError(msg) from None
    return Fingerprint(found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
