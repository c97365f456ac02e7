"""The bulk import job: read a file, check every row by the import's own rules, and
commit the valid ones with their audit entries.

Two modes, one job:

- by default a bad row costs only itself: valid rows are committed in batches as the
  file is read, each batch in one transaction with its audit entry;
- `all_or_nothing` reads the file twice: the validation pass checks every row and
  stores nothing; only if no row has a problem does the loading pass read the file
  again and commit every batch in one transaction. A file rewritten in between (its
  identity, size or time changed, a row count that differs, a problem the first pass
  had not seen) stores nothing.

The audit log gets one entry per committed batch (committed with its rows: no row is
ever stored without its entry), all with the import's `request_id`; the last one also
says how the import ended (`import:rows` = `loaded:N,rejected:M`). An import that
stores nothing — refused, empty, failed — leaves exactly one entry saying why. See the
README's audit section for the outcomes and reason words.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import Outcome
from gateway.bulk.report import (
    MAX_PROBLEMS_KEPT,
    ImportAbortedError,
    ImportProblem,
    ImportProgress,
    ImportReport,
    ImportSourceError,
    Phase,
)
from gateway.bulk.source import Source, SourceRow, fingerprint, open_source
from gateway.compliance.cli_entries import record_cli_audit, record_refusal
from gateway.compliance.entries import CLI_STATUS, append_in_transaction, cli_audit
from gateway.compliance.request_audit import RequestAudit
from gateway.db.engine import Database, create_database
from gateway.db.opening import check_schemas, open_protector
from gateway.encryption.protection import Protector
from gateway.settings import Settings
from keys import DataKeyMissingError, LocalKeyProvider, MasterKeyError
from policies.catalog import Entity

DEFAULT_BATCH = 500
SUMMARY_FIELD = "import:rows"
"""The audit field of an import's last entry: `loaded:N,rejected:M`."""

Valid = TypeVar("Valid")
Prepared = TypeVar("Prepared")
Report = TypeVar("Report", bound=ImportReport)
Checked = tuple[Valid | None, list[ImportProblem]]
"""A row's result: what to store, or (when the list is not empty) why not."""
Transaction = Callable[[], contextlib.AbstractAsyncContextManager[AsyncConnection]]


class RowRules(Protocol[Valid, Prepared]):
    """What one kind of import adds to the job: its layout and its row rules."""

    @property
    def layout(self) -> Entity:
        """The fields a row may hold (and which a CSV header must name)."""
        ...

    @property
    def chunk(self) -> int:
        """Rows checked together (one store round trip per chunk); progress after each."""
        ...

    async def check(self, rows: Sequence[SourceRow]) -> list[Checked[Valid]]:
        """Each row's result, in order. A row accepted here is part of what later rows
        are checked against (a consent withdrawal after its grant)."""
        ...

    async def prepare(self, batch: Sequence[Valid]) -> Prepared:
        """Work done before the batch's transaction (data keys, PII detection)."""
        ...

    async def store(self, conn: AsyncConnection, prepared: Prepared, audit: RequestAudit) -> None:
        """Insert the batch and say in `audit` what was written (ids, fields)."""
        ...

    def tally(self, batch: Sequence[Valid]) -> Mapping[str, int]:
        """Counts of the batch by kind, for the report."""
        ...

    def restart(self) -> None:
        """Forget what the validation pass accepted before the loading pass."""
        ...


class _Changed(Exception):
    """All-or-nothing: the loading pass did not see the file the validation pass saw."""


def _chunks(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class ImportJob(Generic[Valid, Prepared, Report]):
    def __init__(
        self,
        path: Path,
        rules: RowRules[Valid, Prepared],
        *,
        action: str,
        entity: str,
        report_type: type[Report],
        batch_size: int,
        progress: Callable[[ImportProgress], None],
        request_id: str | None = None,
    ) -> None:
        self.path = path
        self.rules = rules
        self.action = action
        self.entity = entity
        self.report_type = report_type
        self.batch_size = batch_size
        self.progress = progress
        self.request_id = request_id or uuid.uuid4().hex
        self.started = time.perf_counter()
        self.rows_read = self.loaded = self.rejected = 0
        self.tallied: dict[str, int] = {}
        self.problems: list[ImportProblem] = []
        self.problems_total = 0
        self.created: list[str] = []

    # --- reporting -----------------------------------------------------------------------

    def report(self, *, refused: bool = False) -> Report:
        return self.report_type(
            rows_read=self.rows_read,
            loaded=self.loaded,
            rejected=self.rejected,
            problems=tuple(self.problems),
            problems_total=self.problems_total,
            seconds=time.perf_counter() - self.started,
            request_id=self.request_id,
            refused=refused,
            tally=dict(self.tallied),
            created_ids=tuple(self.created),
        )

    def _tell(self, phase: Phase, source: Source) -> None:
        self.progress(
            ImportProgress(phase, source.bytes_read, self.rows_read, self.loaded, self.rejected)
        )

    def _reject(self, problems: list[ImportProblem]) -> None:
        self.rejected += 1
        self.problems_total += len(problems)
        room = MAX_PROBLEMS_KEPT - len(self.problems)
        self.problems.extend(problems[: max(room, 0)])

    def audit(self) -> RequestAudit:
        audit = cli_audit(self.action, request_id=self.request_id)
        audit.entity = self.entity
        return audit

    def summary(self, loaded: int) -> dict[str, str]:
        return {SUMMARY_FIELD: f"loaded:{loaded},rejected:{self.rejected}"}

    # --- the passes ----------------------------------------------------------------------

    async def _checked(self, phase: Phase) -> AsyncGenerator[Valid, None]:
        """The rows that pass every check; the others are counted and reported."""
        source = open_source(self.path, self.rules.layout)
        try:
            for rows in _chunks(source.rows(), self.rules.chunk):
                results = await self.rules.check(rows)
                for valid, problems in results:
                    self.rows_read += 1
                    if problems or valid is None:
                        self._reject(problems)
                    else:
                        yield valid
                self._tell(phase, source)
            self._tell(phase, source)
        finally:
            source.close()

    async def validate_only(self) -> None:
        async with contextlib.aclosing(self._checked("validating")) as checked:
            async for _ in checked:
                pass

    async def load(self, transaction: Transaction, *, strict: bool) -> None:
        """Commit the valid rows batch by batch. A full batch waits for the next valid
        row, so the last batch is committed once the whole file is read and its entry
        can say how the import ended."""
        batch: list[Valid] = []
        # aclosing(): a failed batch must not leave the file open until garbage collection.
        async with contextlib.aclosing(self._checked("loading")) as checked:
            async for valid in checked:
                if strict and self.rejected:
                    raise _Changed
                if len(batch) >= self.batch_size:
                    await self._flush(batch, transaction, last=False)
                    batch = []
                batch.append(valid)
        if strict and self.rejected:
            raise _Changed
        if batch:
            await self._flush(batch, transaction, last=True)

    async def _flush(self, batch: list[Valid], transaction: Transaction, *, last: bool) -> None:
        prepared = await self.rules.prepare(batch)
        audit = self.audit()
        async with transaction() as conn:
            await self.rules.store(conn, prepared, audit)
            if last:
                audit.fields = dict(audit.fields) | self.summary(self.loaded + len(batch))
                audit.reason = "rows_rejected" if self.rejected else None
            await append_in_transaction(conn, audit, CLI_STATUS)
        self.loaded += len(batch)
        self.created.extend(audit.record_ids)
        for kind, count in self.rules.tally(batch).items():
            self.tallied[kind] = self.tallied.get(kind, 0) + count

    async def run(self, db: Database, *, all_or_nothing: bool) -> Report:
        if not all_or_nothing:
            await self.load(db.writer.begin, strict=False)
            return self.report()
        seen = fingerprint(self.path)
        await self.validate_only()
        if self.rejected:
            return self.report(refused=True)
        validated = self.rows_read
        self.rows_read = 0
        self.rules.restart()
        try:
            async with db.writer.begin() as conn:

                @contextlib.asynccontextmanager
                async def within() -> AsyncGenerator[AsyncConnection, None]:
                    yield conn

                if fingerprint(self.path) != seen:
                    raise _Changed
                await self.load(within, strict=True)
                if self.rows_read != validated or fingerprint(self.path) != seen:
                    raise _Changed  # rolls back every batch
        except BaseException:
            self.loaded = 0
            self.tallied.clear()
            self.created.clear()  # rolled back
            raise
        return self.report()


async def _record_end(
    db: Database, job: ImportJob[Valid, Prepared, Report], outcome: Outcome, reason: str | None
) -> None:
    """The one entry of an import that committed nothing, or how a failed one ended."""
    audit = job.audit()
    audit.outcome = outcome
    audit.reason = reason
    audit.fields = job.summary(job.loaded)
    await record_cli_audit(db, audit)


async def run_import(
    settings: Settings,
    path: Path,
    make_rules: Callable[[Database, Protector], Awaitable[RowRules[Valid, Prepared]]],
    *,
    layout: Entity,
    action: str,
    entity: str,
    report_type: type[Report],
    all_or_nothing: bool,
    batch_size: int,
    progress: Callable[[ImportProgress], None],
) -> Report:
    """Import `path` (.csv, .jsonl or .ndjson) into the store of `settings`.

    Raises ImportSourceError if the file is unusable (or changed under an all-or-nothing
    import), MasterKeyError or StoreNotReadyError if the store is not there, and
    ImportAbortedError if the store fails mid-way (with what was committed before).
    """
    if batch_size < 1:
        msg = "batch_size must be at least 1"
        raise ValueError(msg)
    request_id = uuid.uuid4().hex
    try:
        open_source(path, layout).close()  # refuse before opening the store
    except ImportSourceError:
        await record_refusal(
            settings, action, "unusable_file", entity=entity, request_id=request_id
        )
        raise
    provider = LocalKeyProvider(settings.data_dir)
    provider.load()  # no master key, no store: stop before creating any database file
    db = create_database(settings)
    try:
        await check_schemas(db)
        protector = await open_protector(settings, db, provider)
        rules = await make_rules(db, protector)
        job = ImportJob(
            path,
            rules,
            action=action,
            entity=entity,
            report_type=report_type,
            batch_size=batch_size,
            progress=progress,
            request_id=request_id,
        )
        return await _run_audited(db, job, all_or_nothing=all_or_nothing)
    finally:
        await db.dispose()


async def _run_audited(
    db: Database, job: ImportJob[Valid, Prepared, Report], *, all_or_nothing: bool
) -> Report:
    try:
        report = await job.run(db, all_or_nothing=all_or_nothing)
    except _Changed:
        await _record_end(db, job, Outcome.INVALID, "file_changed")
        msg = "the file or the store changed between validation and loading; nothing was stored"
        raise ImportSourceError(msg) from None
    except ImportSourceError:
        await _record_end(db, job, Outcome.INVALID, "unusable_file")
        raise
    except (SQLAlchemyError, MasterKeyError, DataKeyMissingError, OSError) as exc:
        # Only the type: a driver's message can quote a stored value.
        reading = isinstance(exc, OSError)
        with contextlib.suppress(SQLAlchemyError, OSError):
            # The store may be what failed: the entry is then as lost as the batch.
            await _record_end(db, job, Outcome.FAILED, "file_failed" if reading else "store_failed")
        failed = "reading the file" if reading else "the store"
        what = "nothing was stored" if all_or_nothing else "the failing batch was not stored"
        msg = f"{failed} failed during the import ({type(exc).__name__}); {what}"
        raise ImportAbortedError(msg, job.report()) from None
    if report.refused:
        await _record_end(db, job, Outcome.INVALID, "rows_rejected")
    elif report.loaded == 0:
        # Nothing committed, so no batch entry said how the import ended.
        rejected = report.rejected > 0
        await _record_end(
            db,
            job,
            Outcome.INVALID if rejected else Outcome.ALLOWED,
            "rows_rejected" if rejected else None,
        )
    return report
