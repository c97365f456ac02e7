"""Bulk import of customers from CSV or JSON Lines: validated like an API create,
encrypted, and loaded in batches that each commit with their own audit entry.

By default a bad row costs only itself: it is reported by line and field, and the
valid rows load. With `all_or_nothing` the whole file is validated first and then
loaded in one transaction, so a problem anywhere, or a failure mid-way, stores nothing.
Each batch's data keys are committed in the key store before its rows, as for every
write: a failure in between leaves unused keys, never rows that cannot be decrypted.

Problems name a line, a field and a stable reason word, never a value; a column or
key whose name is not a plain identifier may itself be a value (a CSV without its
header row), so it is named by position or as `?`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from ulid import ULID

from audit import AuditEntry, Outcome, append_entry
from gateway.customers import classification as classes
from gateway.db.engine import Database, create_database
from gateway.db.schema import PII_CLASSES_COLUMN, store_tables
from gateway.encryption.protection import Protector
from gateway.pii.detector import shared_detector
from gateway.settings import Settings
from gateway.state import check_schemas, open_protector
from keys import DataKeyMissingError, LocalKeyProvider, MasterKeyError
from policies.catalog import Entity, default_catalog
from policies.formats import FieldInvalid, check_consistency, validate

ENTITY = "customers"
ACTION = "customers.import"
PRINCIPAL_ID = "cli:import"
DEFAULT_BATCH = 500
MAX_PROBLEMS_KEPT = 10_000
# A JSON line longer than this is refused without reading it into memory: the API
# refuses request bodies of the same size by default.
MAX_LINE_BYTES = 1_048_576
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_PROGRESS_EVERY = 200
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

Phase = Literal["validating", "loading"]


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Why one row was refused: its line in the file (1-based), the field, a reason word."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    phase: Phase
    bytes_read: int
    rows_read: int
    loaded: int
    rejected: int


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows_read: int
    loaded: int
    rejected: int
    problems: tuple[ImportProblem, ...]
    """The first `MAX_PROBLEMS_KEPT` problems, in file order; `problems_total` counts all."""
    problems_total: int
    seconds: float
    request_id: str
    """The `request_id` of this import's audit entries (one per batch)."""
    refused: bool = False
    """All-or-nothing mode found problems, so nothing was loaded."""
    created_ids: tuple[str, ...] = ()
    """Ids of the customers loaded, in file order."""

    @property
    def customers_per_second(self) -> float:
        return self.loaded / self.seconds if self.seconds > 0 else 0.0


class ImportSourceError(Exception):
    """The file cannot be imported at all: missing, unknown format, unusable header."""


class ImportAbortedError(Exception):
    """The store failed mid-import; `report` counts what was committed before it."""

    def __init__(self, msg: str, report: ImportReport) -> None:
        super().__init__(msg)
        self.report = report


# --- reading --------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    line: int
    values: dict[str, object] = field(default_factory=dict)
    """Values of catalog fields only; anything else is already in `problems`."""
    problems: list[ImportProblem] = field(default_factory=list)
    unreadable: bool = False


class _Source(Protocol):
    @property
    def bytes_read(self) -> int: ...

    def rows(self) -> Iterator[_Row]: ...

    def close(self) -> None: ...


def _unreadable(line: int, reason: str, field_name: str = "*") -> _Row:
    return _Row(line, problems=[ImportProblem(line, field_name, reason)], unreadable=True)


def _label(name: str) -> str:
    return name if _PLAIN_NAME.fullmatch(name) else "?"


def _is_utf8(text: str) -> bool:
    # Bytes that are not UTF-8 were decoded to lone surrogates (surrogateescape).
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _CsvSource:
    """A header row of field names, then one customer per record; an empty cell is absent."""

    def __init__(self, path: Path, entity: Entity) -> None:
        self._binary = path.open("rb")
        try:
            # surrogateescape: a cell that is not UTF-8 is reported as that cell's
            # problem instead of stopping the file at an unknown line.
            self._text = io.TextIOWrapper(
                self._binary, encoding="utf-8-sig", errors="surrogateescape", newline=""
            )
            self._reader = csv.reader(self._text, strict=True)
            self._columns = self._read_header(entity)
        except BaseException:
            self._binary.close()
            raise

    @property
    def bytes_read(self) -> int:
        return self._binary.tell()

    def close(self) -> None:
        self._text.close()

    def _read_header(self, entity: Entity) -> list[tuple[str | None, str]]:
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
        known = [name for name in names if name in entity.field_names]
        if not known:
            # Most likely a file without its header row; its first row is not echoed.
            msg = f"the first line of the CSV file must be a header of {entity.name} field names"
            raise ImportSourceError(msg)
        repeated = sorted({name for name in known if known.count(name) > 1})
        if repeated:
            msg = f"the CSV header names these fields more than once: {', '.join(repeated)}"
            raise ImportSourceError(msg)
        missing = [s.name for s in entity.fields if s.required and s.name not in known]
        if missing:
            msg = f"the CSV header has no column for required fields: {', '.join(missing)}"
            raise ImportSourceError(msg)
        return [
            (name, name)
            if name in entity.field_names
            else (None, name if _PLAIN_NAME.fullmatch(name) else f"column {index}")
            for index, name in enumerate(names, start=1)
        ]

    def rows(self) -> Iterator[_Row]:
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
                yield _unreadable(line, "invalid_csv")
                continue
            previous = reader.line_num
            if not any(cells):
                continue  # a blank line, or only separators
            if len(cells) != len(columns):
                yield _unreadable(line, "wrong_cell_count")
                continue
            row = _Row(line)
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


class _JsonlSource:
    """One JSON object per line (UTF-8, `\\n`-separated); blank lines are skipped."""

    def __init__(self, path: Path, entity: Entity) -> None:
        self._binary = path.open("rb")
        self._fields = frozenset(entity.field_names)

    @property
    def bytes_read(self) -> int:
        return self._binary.tell()

    def close(self) -> None:
        self._binary.close()

    def _parse(self, line: int, raw: bytes) -> _Row:
        try:
            document = json.loads(
                raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constants
            )
        except _DuplicateKeyError as duplicate:
            return _unreadable(line, "duplicate_field", _label(duplicate.key))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _unreadable(line, "invalid_json")
        if not isinstance(document, dict):
            return _unreadable(line, "invalid_body")
        row = _Row(line)
        for key, value in document.items():
            if key in self._fields:
                row.values[key] = value
            else:
                row.problems.append(ImportProblem(line, _label(key), "unknown_field"))
        return row

    def rows(self) -> Iterator[_Row]:
        line = 0
        while raw := self._binary.readline(MAX_LINE_BYTES + 1):
            line += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the line
                    raw = self._binary.readline(MAX_LINE_BYTES)
                yield _unreadable(line, "too_long")
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


def open_source(path: Path, entity: Entity) -> _Source:
    kind = source_format(path)
    try:
        return _CsvSource(path, entity) if kind == "csv" else _JsonlSource(path, entity)
    except OSError as exc:
        msg = f"{path}: {exc.strerror or type(exc).__name__}"
        raise ImportSourceError(msg) from None


# --- validating -----------------------------------------------------------------------


def check_row(entity: Entity, row: _Row) -> tuple[dict[str, object], list[ImportProblem]]:
    """Validate a row as an API create would: the values to store, or its problems."""
    problems = list(row.problems)
    if row.unreadable:
        return {}, problems
    values: dict[str, object] = {}
    for name, raw in row.values.items():
        spec = entity.field(name)
        if not spec.writable:
            problems.append(ImportProblem(row.line, name, "field_not_writable"))
            continue
        try:
            values[name] = validate(spec.format, raw, required=spec.required)
        except FieldInvalid as invalid:
            problems.append(ImportProblem(row.line, name, invalid.reason))
    problems.extend(
        ImportProblem(row.line, spec.name, "required")
        for spec in entity.fields
        if spec.required and spec.name not in row.values
    )
    problems.extend(
        ImportProblem(row.line, name, reason) for name, reason in check_consistency(values)
    )
    return values, problems


# --- loading --------------------------------------------------------------------------


class _FileChangedError(Exception):
    """All-or-nothing: the loading pass met a problem the validation pass had not."""


Transaction = Callable[[], contextlib.AbstractAsyncContextManager[AsyncConnection]]


class _Import:
    def __init__(
        self,
        path: Path,
        protector: Protector,
        *,
        batch_size: int,
        progress: Callable[[ImportProgress], None],
    ) -> None:
        self.path = path
        self.protector = protector
        self.entity = protector.catalog.entity(ENTITY)
        self.table = store_tables()[ENTITY]
        self.batch_size = batch_size
        self.progress = progress
        self.request_id = uuid.uuid4().hex
        self.started = time.perf_counter()
        self.rows_read = self.loaded = self.rejected = 0
        self.problems: list[ImportProblem] = []
        self.problems_total = 0
        self.created: list[str] = []

    def report(self, *, refused: bool = False) -> ImportReport:
        return ImportReport(
            rows_read=self.rows_read,
            loaded=self.loaded,
            rejected=self.rejected,
            problems=tuple(self.problems),
            problems_total=self.problems_total,
            seconds=time.perf_counter() - self.started,
            request_id=self.request_id,
            refused=refused,
            created_ids=tuple(self.created),
        )

    def _tell(self, phase: Phase, source: _Source) -> None:
        self.progress(
            ImportProgress(phase, source.bytes_read, self.rows_read, self.loaded, self.rejected)
        )

    def _reject(self, problems: list[ImportProblem]) -> None:
        self.rejected += 1
        self.problems_total += len(problems)
        room = MAX_PROBLEMS_KEPT - len(self.problems)
        self.problems.extend(problems[: max(room, 0)])

    def _checked_rows(self, phase: Phase) -> Generator[dict[str, object], None, None]:
        """Values of the rows that pass validation; the others are counted and reported."""
        source = open_source(self.path, self.entity)
        try:
            for row in source.rows():
                self.rows_read += 1
                values, problems = check_row(self.entity, row)
                if problems:
                    self._reject(problems)
                else:
                    yield values
                if self.rows_read % _PROGRESS_EVERY == 0:
                    self._tell(phase, source)
            self._tell(phase, source)
        finally:
            source.close()

    def validate_only(self) -> None:
        for _ in self._checked_rows("validating"):
            pass

    async def load(self, transaction: Transaction, *, strict: bool) -> None:
        batch: list[dict[str, object]] = []
        # closing(): a failed batch must not leave the file open until garbage collection.
        with contextlib.closing(self._checked_rows("loading")) as checked:
            for values in checked:
                if strict and self.rejected:
                    raise _FileChangedError
                batch.append(values)
                if len(batch) >= self.batch_size:
                    await self._flush(batch, transaction)
                    batch = []
        if strict and self.rejected:
            raise _FileChangedError
        if batch:
            await self._flush(batch, transaction)

    async def _flush(self, batch: list[dict[str, object]], transaction: Transaction) -> None:
        protector = self.protector
        ids = [f"cus_{ULID()}" for _ in batch]
        keys = await protector.keystore.create_data_keys(ids)
        occurred = dt.datetime.now(dt.UTC)
        now = occurred.isoformat(timespec="microseconds")
        blank = dict.fromkeys(self.entity.field_names)
        # Free text classified as an API write would (one batched detection).
        texts, places = classes.texts_of(self.entity, batch)
        found = shared_detector().detect_many(texts) if texts else []
        classified = classes.classifications(len(batch), places, found)
        rows = [
            protector.protect(
                ENTITY, blank | values | {"id": record_id}, record_id, keys[record_id]
            )
            | {"created_at": now, "updated_at": now, PII_CLASSES_COLUMN: counts or None}
            for record_id, values, counts in zip(ids, batch, classified, strict=True)
        ]
        present = {name for values in batch for name in values}
        entry = AuditEntry(
            occurred_at=occurred,
            request_id=self.request_id,
            action=ACTION,
            outcome=Outcome.ALLOWED,
            status=200,
            principal_id=PRINCIPAL_ID,
            entity=ENTITY,
            record_ids=tuple(ids),
            subject_ids=tuple(ids),
            fields={name: "written" for name in self.entity.field_names if name in present},
            classification=classes.total(classified) if places else None,
        )
        async with transaction() as conn:
            await conn.execute(insert(self.table), rows)
            await append_entry(conn, entry)
        self.loaded += len(batch)
        self.created.extend(ids)


async def open_import_protector(
    settings: Settings, db: Database, provider: LocalKeyProvider
) -> Protector:
    await check_schemas(db)
    return await open_protector(settings, db, provider)


@contextlib.asynccontextmanager
async def within(conn: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    yield conn


def ignore_progress(_: ImportProgress) -> None:
    return None


async def import_customers(
    settings: Settings,
    path: Path,
    *,
    all_or_nothing: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[ImportProgress], None] = ignore_progress,
) -> ImportReport:
    """Import customers from `path` (.csv, .jsonl or .ndjson) into the store of `settings`.

    Raises ImportSourceError if the file is unusable, MasterKeyError or
    StoreNotReadyError if the store is not there, ImportAbortedError if the store
    fails mid-way (with what was committed before).
    """
    if batch_size < 1:
        msg = "batch_size must be at least 1"
        raise ValueError(msg)
    open_source(path, default_catalog().entity(ENTITY)).close()  # refuse before the store
    provider = LocalKeyProvider(settings.data_dir)
    provider.load()  # no master key, no store: stop before creating any database file
    db = create_database(settings)
    try:
        job = _Import(
            path,
            await open_import_protector(settings, db, provider),
            batch_size=batch_size,
            progress=progress,
        )
        try:
            if not all_or_nothing:
                await job.load(db.writer.begin, strict=False)
                return job.report()
            job.validate_only()
            if job.rejected:
                return job.report(refused=True)
            job.rows_read = 0
            try:
                async with db.writer.begin() as conn:
                    await job.load(lambda: within(conn), strict=True)
            except BaseException:
                job.loaded = 0  # rolled back
                job.created.clear()
                raise
            return job.report()
        except _FileChangedError:
            msg = "the file changed between validation and loading; nothing was stored"
            raise ImportSourceError(msg) from None
        except (SQLAlchemyError, MasterKeyError, DataKeyMissingError, OSError) as exc:
            # Only the type: a driver's message can quote a stored value.
            failed = "reading the file" if isinstance(exc, OSError) else "the store"
            what = "nothing was stored" if all_or_nothing else "the failing batch was not stored"
            msg = f"{failed} failed during the import ({type(exc).__name__}); {what}"
            raise ImportAbortedError(msg, job.report()) from None
    finally:
        await db.dispose()
