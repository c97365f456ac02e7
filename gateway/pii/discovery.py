"""Data discovery: which kinds of personal data each column of a CSV or JSON Lines file
holds, and how often — the first step of classifying a source before it is put behind
the gateway.

Values are read, scanned in batches (one `detect_many` per batch) and forgotten: the
report holds counts per column and entity type only. Problems name a line and a column,
never a value; a column name that is not a plain identifier may itself be a value (a
CSV without its header row), so it is reported by position.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.pii.detector import classify

if TYPE_CHECKING:  # the detector's stack takes seconds to import; `wardgate --help` imports this
    from masking.detection import PiiDetector

SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
MAX_LINE_BYTES = 1_048_576
DEFAULT_BATCH = 256
_BATCH_CHARS = 256_000
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class DiscoverySourceError(Exception):
    """The file cannot be scanned: missing, unknown format, not UTF-8, malformed, or a
    requested column it does not have."""


@dataclass(slots=True)
class TypeCount:
    values: int = 0
    """Values holding at least one entity of the type."""
    entities: int = 0
    """Entities of the type in all values."""


@dataclass(slots=True)
class ColumnReport:
    values: int = 0
    """Non-empty values scanned."""
    types: dict[str, TypeCount] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "values": self.values,
            "types": {
                name: {"values": count.values, "entities": count.entities}
                for name, count in sorted(self.types.items())
            },
        }


@dataclass(slots=True)
class DiscoveryReport:
    file: str
    rows: int = 0
    columns: dict[str, ColumnReport] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "columns": {name: report.to_json() for name, report in self.columns.items()},
        }


Progress = Callable[[int, int], None]
"""(bytes read, rows read)."""


def _label(name: str, position: int, what: str) -> str:
    return name if _PLAIN_NAME.fullmatch(name) else f"{what} {position}"


def _text(value: object) -> str:
    """The text to scan in a JSON value (empty: nothing to scan)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class _Reader:
    """Rows of (column label, text) pairs, with the bytes read so far."""

    def __init__(self, path: Path) -> None:
        self.binary = path.open("rb")

    @property
    def bytes_read(self) -> int:
        return self.binary.tell()

    def close(self) -> None:
        self.binary.close()


class _CsvReader(_Reader):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            self._text = io.TextIOWrapper(self.binary, encoding="utf-8-sig", newline="")
            self._reader = csv.reader(self._text, strict=True)
            header = self._next()
            if header is None:
                msg = "the CSV file is empty: its first line must name the columns"
                raise DiscoverySourceError(msg)
        except BaseException:
            self.binary.close()
            raise
        self.columns = [
            _label(name.strip(), index, "column") for index, name in enumerate(header, start=1)
        ]

    def close(self) -> None:
        self._text.close()

    def _next(self) -> list[str] | None:
        try:
            return next(self._reader, None)
        except csv.Error:
            msg = f"line {self._reader.line_num}: not valid CSV"
            raise DiscoverySourceError(msg) from None
        except UnicodeDecodeError:
            msg = f"near line {self._reader.line_num + 1}: the file is not UTF-8"
            raise DiscoverySourceError(msg) from None

    def rows(self) -> Iterator[list[tuple[str, str]]]:
        while (cells := self._next()) is not None:
            if not any(cells):
                continue
            if len(cells) != len(self.columns):
                line = self._reader.line_num
                msg = f"line {line}: {len(cells)} cells, the header has {len(self.columns)}"
                raise DiscoverySourceError(msg)
            yield list(zip(self.columns, cells, strict=True))


class _JsonlReader(_Reader):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._keys: dict[str, str] = {}
        self.columns: list[str] = []

    def _column(self, key: str) -> str:
        label = self._keys.get(key)
        if label is None:
            label = self._keys[key] = _label(key, len(self._keys) + 1, "key")
            if label not in self.columns:
                self.columns.append(label)
        return label

    def rows(self) -> Iterator[list[tuple[str, str]]]:
        line = 0
        while raw := self.binary.readline(MAX_LINE_BYTES + 1):
            line += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                msg = f"line {line}: longer than {MAX_LINE_BYTES} bytes"
                raise DiscoverySourceError(msg)
            if line == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            if not raw.strip():
                continue
            try:
                document = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                msg = f"line {line}: not UTF-8"
                raise DiscoverySourceError(msg) from None
            except (ValueError, RecursionError):
                msg = f"line {line}: not valid JSON"
                raise DiscoverySourceError(msg) from None
            if not isinstance(document, dict):
                msg = f"line {line}: not a JSON object"
                raise DiscoverySourceError(msg)
            yield [(self._column(str(key)), _text(value)) for key, value in document.items()]


def _open(path: Path) -> _CsvReader | _JsonlReader:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        msg = f"{path.name}: the file name must end in one of {', '.join(SUFFIXES)}"
        raise DiscoverySourceError(msg)
    if not path.is_file():
        msg = f"{path}: no such file"
        raise DiscoverySourceError(msg)
    try:
        return _CsvReader(path) if kind == "csv" else _JsonlReader(path)
    except OSError as exc:
        msg = f"{path}: {exc.strerror or type(exc).__name__}"
        raise DiscoverySourceError(msg) from None


def _tally(
    report: DiscoveryReport,
    detector: PiiDetector,
    pending: list[tuple[str, str]],
    language: str | None,
) -> None:
    found = detector.detect_many([text for _, text in pending], language=language)
    for (column, _), entities in zip(pending, found, strict=True):
        counts = report.columns.setdefault(column, ColumnReport())
        counts.values += 1
        for entity_type, n in classify(entities).items():
            tally = counts.types.setdefault(entity_type, TypeCount())
            tally.values += 1
            tally.entities += n
    pending.clear()


def discover(
    path: Path,
    detector: PiiDetector,
    *,
    columns: Sequence[str] | None = None,
    language: str | None = None,
    batch: int = DEFAULT_BATCH,
    progress: Progress = lambda _bytes, _rows: None,
) -> DiscoveryReport:
    """Scan `path` (.csv, .jsonl or .ndjson), all columns or only `columns`."""
    started = time.perf_counter()
    reader = _open(path)
    try:
        wanted = frozenset(columns) if columns else None
        if wanted is not None and isinstance(reader, _CsvReader):
            _require(wanted, reader.columns)
        report = DiscoveryReport(file=path.name)
        pending: list[tuple[str, str]] = []
        pending_chars = 0
        for row in reader.rows():
            report.rows += 1
            for column, text in row:
                if wanted is not None and column not in wanted:
                    continue
                report.columns.setdefault(column, ColumnReport())
                if not text.strip():
                    continue
                pending.append((column, text))
                pending_chars += len(text)
            if len(pending) >= batch or pending_chars >= _BATCH_CHARS:
                _tally(report, detector, pending, language)
                pending_chars = 0
                progress(reader.bytes_read, report.rows)
        if pending:
            _tally(report, detector, pending, language)
        progress(reader.bytes_read, report.rows)
        if wanted is not None:
            _require(wanted, reader.columns)
        # Columns in file order; the ones asked for but empty are reported empty.
        order = {name: index for index, name in enumerate(reader.columns)}
        report.columns = dict(
            sorted(report.columns.items(), key=lambda item: order.get(item[0], len(order)))
        )
        report.seconds = time.perf_counter() - started
        return report
    finally:
        reader.close()


def _require(wanted: frozenset[str], present: Sequence[str]) -> None:
    missing = sorted(wanted - set(present))
    if missing:
        msg = f"no such column: {', '.join(missing)}"
        raise DiscoverySourceError(msg)
