"""Bulk import of consent records collected elsewhere, from CSV or JSON Lines.

Each line is one consent event, checked as the API checks a grant or a withdrawal
(gateway/consents/service.py) and appended to the consent history, which stays
append-only. A line's fields: `customer_id`, `purpose`, `kind` (`grant` or `withdraw`,
default `grant`), `at`, `channel`, `notice_version` (required for grants), `evidence`
(stored only as its SHA-256), `expires_at`, `separate` (CSV: scopes separated by spaces
or semicolons; JSON Lines: a list) and `guardian` (an opaque reference).

What differs from the API is time: a line records when consent was given (`at`, with
a time zone, not in the future) instead of the moment of the call. The rules the API
applies at its own time are applied at `at`:

- a customer under 14 on the (UTC) day of `at` needs a guardian's consent (PIPL Art.
  31); age comes from the decrypted birth date or resident ID, and a customer whose
  birth data cannot be decrypted counts as a minor (fail closed);
- a withdrawal needs a grant in force at `at`, in the store's history or on an earlier
  accepted line of the same file (`not_granted` otherwise), and it inherits that
  grant's notice version when it names none;
- an expiry must come after `at` (an expired consent is valid history).

Times are stored in UTC so that the history's text order is its time order.

Valid lines are appended in batches; each batch commits with one audit entry that
names the customers and, per purpose, whether consent was granted or withdrawn: never
a value. By default a bad line costs only itself; with `all_or_nothing` the whole file
is validated first and loaded in one transaction. Problems name a line, a field and a
reason word, never a value, as in the customers import (gateway/customers/importer.py), whose
file reading this module shares.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import time
import uuid
from collections.abc import (
    AsyncGenerator,
    Callable,
    Collection,
    Iterator,
    Sequence,
)
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Literal, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from ulid import ULID

from audit import AuditEntry, Outcome, append_entry
from gateway.compliance.cli_entries import cli_principal
from gateway.consents.store import consent_events
from gateway.customers.importer import (
    MAX_PROBLEMS_KEPT,
    ImportProblem,
    ImportProgress,
    ImportSourceError,
    ignore_progress,
    open_import_protector,
    open_source,
    source_format,
    within,
)
from gateway.db.engine import Database, create_database
from gateway.db.schema import consents, store_tables
from gateway.encryption.protection import Protector
from gateway.policy.store import load_latest_policy
from gateway.settings import Settings
from keys import DataKeyMissingError, LocalKeyProvider, MasterKeyError
from policies.catalog import Entity, FieldSpec, Sensitivity
from policies.consent import (
    ConsentEvent,
    ConsentKind,
    ConsentRecordError,
    SeparateScope,
    birth_date_for,
    derive_states,
    is_minor,
)

ENTITY = "consents"
ACTION = "consents.import"
DEFAULT_BATCH = 500
MAX_EVIDENCE = 4096
# Lines validated together: one customer lookup, one decryption round trip and one
# consent history query per chunk, and a progress report after each.
_CHUNK = 250
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # as the API's channel, notice and guardian
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_SCOPE_SEPARATORS = re.compile(r"[;\s]+")
_KINDS: tuple[ConsentKind, ...] = ("grant", "withdraw")

Phase = Literal["validating", "loading"]
_T = TypeVar("_T")


def _column(name: str, *, required: bool = False) -> FieldSpec:
    # Only the name and whether a CSV header must have the column matter to the reader.
    return FieldSpec(ENTITY, name, "consent", Sensitivity.GENERAL, "text", required=required)


LAYOUT = Entity(
    ENTITY,
    (
        _column("customer_id", required=True),
        _column("purpose", required=True),
        _column("kind"),
        _column("at", required=True),
        _column("channel", required=True),
        _column("notice_version"),
        _column("evidence"),
        _column("expires_at"),
        _column("separate"),
        _column("guardian"),
    ),
)
"""The fields of a consent line, for the customers import's CSV and JSON Lines readers."""
_FIELD_ORDER = {name: index for index, name in enumerate(LAYOUT.field_names)}


@dataclass(frozen=True, slots=True)
class ConsentImportReport:
    rows_read: int
    loaded: int
    grants: int
    withdrawals: int
    rejected: int
    problems: tuple[ImportProblem, ...]
    """The first `MAX_PROBLEMS_KEPT` problems, in file order; `problems_total` counts all."""
    problems_total: int
    seconds: float
    request_id: str
    """The `request_id` of this import's audit entries (one per batch) and consent rows."""
    refused: bool = False
    """All-or-nothing mode found problems, so nothing was loaded."""

    @property
    def consents_per_second(self) -> float:
        return self.loaded / self.seconds if self.seconds > 0 else 0.0


class ConsentImportAbortedError(Exception):
    """The store failed mid-import; `report` counts what was committed before it."""

    def __init__(self, msg: str, report: ConsentImportReport) -> None:
        super().__init__(msg)
        self.report = report


# --- checking one line on its own ------------------------------------------------------


@dataclass(slots=True)
class _Line:
    """A line's parsed values; the store's checks (customer, age, history) come later."""

    line: int
    problems: list[ImportProblem]
    customer_id: str | None = None
    purpose: str | None = None
    kind: ConsentKind = "grant"
    at: dt.datetime | None = None
    channel: str | None = None
    notice_version: str | None = None
    evidence_hash: str | None = None
    expires_at: dt.datetime | None = None
    separate: frozenset[SeparateScope] = frozenset()
    guardian_ref: str | None = None
    guardian_given: bool = False


def _token(value: object) -> str | None:
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


def _time(value: object) -> dt.datetime | None:
    """An ISO 8601 time with a zone, in UTC; None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
        if parsed.utcoffset() is None:
            return None
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


def _scopes(value: object, *, csv: bool) -> frozenset[SeparateScope] | None:
    if csv and isinstance(value, str):
        items: list[object] = [s for s in _SCOPE_SEPARATORS.split(value) if s]
    elif not csv and isinstance(value, list):
        items = value
    else:
        return None
    if not all(isinstance(item, str) for item in items):
        return None
    try:
        return frozenset(SeparateScope(str(item)) for item in items)
    except ValueError:
        return None


def check_line(
    line: int,
    values: dict[str, object],
    *,
    csv: bool,
    purposes: Collection[str],
    now: dt.datetime,
    read_problems: list[ImportProblem] | None = None,
) -> _Line:
    """Check what a line can be checked for without the store."""
    problems = list(read_problems or [])
    parsed = _Line(line, problems)

    def problem(name: str, reason: str) -> None:
        problems.append(ImportProblem(line, name, reason))

    # JSON null is absent, as in the API; so is an empty CSV cell (the reader drops it).
    customer_id = values.get("customer_id")
    if customer_id is None:
        problem("customer_id", "required")
    elif isinstance(customer_id, str) and _CUSTOMER_ID.fullmatch(customer_id):
        parsed.customer_id = customer_id
    else:
        problem("customer_id", "invalid_customer_id")

    purpose = values.get("purpose")
    if purpose is None:
        problem("purpose", "required")
    elif _token(purpose) is None:
        problem("purpose", "invalid_purpose")
    elif purpose not in purposes:
        problem("purpose", "unknown_purpose")
    else:
        parsed.purpose = str(purpose)

    kind = values.get("kind")
    if kind is not None:
        if kind in _KINDS:
            parsed.kind = "withdraw" if kind == "withdraw" else "grant"
        else:
            problem("kind", "invalid_kind")
    grant = parsed.kind == "grant"

    raw_at = values.get("at")
    at = _time(raw_at)
    if raw_at is None:
        problem("at", "required")
    elif at is None:
        problem("at", "invalid_time")
    elif at > now:
        problem("at", "future_time")
    else:
        parsed.at = at

    for name in ("channel", "notice_version"):
        value = values.get(name)
        if value is None:
            if name == "channel" or grant:
                problem(name, "required")
        elif _token(value) is None:
            problem(name, f"invalid_{name}")
        else:
            setattr(parsed, name, value)

    evidence = values.get("evidence")
    if evidence is not None:
        if isinstance(evidence, str) and len(evidence) <= MAX_EVIDENCE:
            parsed.evidence_hash = hashlib.sha256(evidence.encode()).hexdigest()
        else:
            problem("evidence", "invalid_evidence")

    # A withdrawal ends the whole consent: it takes no expiry, scope or guardian.
    raw_expiry = values.get("expires_at")
    if raw_expiry is not None:
        expires_at = _time(raw_expiry)
        if not grant:
            problem("expires_at", "not_for_withdraw")
        elif expires_at is None or (at is not None and expires_at <= at):
            problem("expires_at", "invalid_expiry")
        else:
            parsed.expires_at = expires_at

    separate = values.get("separate")
    if separate is not None:
        scopes = _scopes(separate, csv=csv)
        if scopes is None:
            problem("separate", "invalid_scope")
        elif scopes and not grant:
            problem("separate", "not_for_withdraw")
        else:
            parsed.separate = scopes

    guardian = values.get("guardian")
    if guardian is not None:
        parsed.guardian_given = True
        ref = guardian.get("ref") if isinstance(guardian, dict) else guardian  # as the API
        if not grant:
            problem("guardian", "not_for_withdraw")
        elif _token(ref) is None:
            problem("guardian", "invalid_guardian")
        else:
            parsed.guardian_ref = _token(ref)
    return parsed


# --- the store's side: customers, ages, consent history ----------------------------------


@dataclass(frozen=True, slots=True)
class _Customer:
    erased: bool
    birth_date: dt.date | None = None
    age_unknown: bool = False
    """No birth date, and birth data that failed to decrypt: treated as a minor's."""

    def minor_on(self, day: dt.date) -> bool:
        return self.age_unknown or is_minor(self.birth_date, day)


@dataclass(slots=True)
class _Known:
    """What the import has learned from the store, and the lines it accepted so far."""

    customers: dict[str, _Customer | None] = field(default_factory=dict)
    history: dict[tuple[str, str], list[ConsentEvent]] = field(default_factory=dict)


def _chunks(rows: Iterator[_T], size: int) -> Iterator[list[_T]]:
    while chunk := list(islice(rows, size)):
        yield chunk


Transaction = Callable[[], contextlib.AbstractAsyncContextManager[AsyncConnection]]


def consent_rows(events: Sequence[ConsentEvent], request_id: str) -> list[dict[str, object]]:
    """The rows `append_consent` would insert for `events`, for one multi-row insert.

    Ids are ULIDs, generated in order: events at the same instant keep the file's order
    when the history is read back (ordered by time, then id).
    """
    return [
        {
            "id": f"cns_{ULID()}",
            "customer_id": event.customer_id,
            "purpose": event.purpose,
            "kind": event.kind,
            "at": event.at.isoformat(timespec="microseconds"),
            "channel": event.channel,
            "notice_version": event.notice_version,
            "evidence_hash": event.evidence_hash,
            "expires_at": None if event.expires_at is None else event.expires_at.isoformat(),
            "separate": sorted(s.value for s in event.separate),
            "guardian_ref": event.guardian_ref,
            "recorded_by": event.recorded_by,
            "request_id": request_id,
        }
        for event in events
    ]


class _FileChangedError(Exception):
    """All-or-nothing: the loading pass met a problem the validation pass had not."""


class _Import:
    def __init__(
        self,
        path: Path,
        db: Database,
        protector: Protector,
        *,
        purposes: Collection[str],
        policy_version: int,
        batch_size: int,
        progress: Callable[[ImportProgress], None],
    ) -> None:
        self.path = path
        self.csv = source_format(path) == "csv"
        self.db = db
        self.protector = protector
        self.purposes = frozenset(purposes)
        self.policy_version = policy_version
        self.batch_size = batch_size
        self.progress = progress
        self.principal = cli_principal()
        self.request_id = uuid.uuid4().hex
        self.now = dt.datetime.now(dt.UTC)
        self.started = time.perf_counter()
        self.known = _Known()
        self.rows_read = self.loaded = self.grants = self.rejected = 0
        self.problems: list[ImportProblem] = []
        self.problems_total = 0

    def report(self, *, refused: bool = False) -> ConsentImportReport:
        return ConsentImportReport(
            rows_read=self.rows_read,
            loaded=self.loaded,
            grants=self.grants,
            withdrawals=self.loaded - self.grants,
            rejected=self.rejected,
            problems=tuple(self.problems),
            problems_total=self.problems_total,
            seconds=time.perf_counter() - self.started,
            request_id=self.request_id,
            refused=refused,
        )

    def restart(self) -> None:
        """Forget the validation pass before the loading pass reads the file again."""
        self.known = _Known()
        self.rows_read = 0

    def _reject(self, problems: list[ImportProblem]) -> None:
        self.rejected += 1
        self.problems_total += len(problems)
        room = MAX_PROBLEMS_KEPT - len(self.problems)
        self.problems.extend(problems[: max(room, 0)])

    async def _learn(self, customer_ids: set[str]) -> None:
        """Look up customers not seen yet: existence, erasure, birth data, consent history."""
        new = sorted(customer_ids - self.known.customers.keys())
        if not new:
            return
        table = store_tables()["customers"]
        query = select(table.c.id, table.c.erased_at, table.c.birth_date, table.c.id_number)
        async with self.db.reader.connect() as conn:
            rows = (await conn.execute(query.where(table.c.id.in_(new)))).all()
            live = [row._mapping for row in rows if row.erased_at is None]
            events = await consent_events(conn, [str(row["id"]) for row in live])
        customers = self.known.customers
        customers.update(dict.fromkeys(new))
        customers.update({str(row.id): _Customer(erased=True) for row in rows if row.erased_at})
        revealed = await self.protector.reveal("customers", live, ("birth_date", "id_number"))
        unreadable = {record_id for record_id, _ in revealed.failures}
        for plain in revealed.rows:
            customer_id = str(plain["id"])
            birth = birth_date_for(plain.get("birth_date"), plain.get("id_number"))  # type: ignore[arg-type]
            # The API reads a field that fails to decrypt as absent; here an age that
            # cannot be told at all counts as a minor's.
            unknown = birth is None and customer_id in unreadable
            customers[customer_id] = _Customer(erased=False, birth_date=birth, age_unknown=unknown)
        for event in events:
            self.known.history.setdefault((event.customer_id, event.purpose), []).append(event)

    def _settle(self, line: _Line) -> ConsentEvent | None:
        """The store's checks of a line; its event (now part of the history) if it passes."""
        problems = line.problems
        customer = None
        if line.customer_id is not None:
            customer = self.known.customers.get(line.customer_id)
            if customer is None:
                problems.append(ImportProblem(line.line, "customer_id", "unknown_customer"))
            elif customer.erased:
                problems.append(ImportProblem(line.line, "customer_id", "erased"))
                customer = None
        notice = line.notice_version
        if customer is not None and line.at is not None:
            if (
                line.kind == "grant"
                and not line.guardian_given
                and customer.minor_on(line.at.date())
            ):
                # PIPL Art. 31: for a child under 14 only a guardian can consent.
                problems.append(ImportProblem(line.line, "guardian", "guardian_required"))
            if line.kind == "withdraw" and line.purpose is not None:
                assert line.customer_id is not None  # noqa: S101 - customer is known
                in_force = self._grant_in_force(line.customer_id, line.purpose, line.at)
                if in_force is None:
                    problems.append(ImportProblem(line.line, "purpose", "not_granted"))
                elif notice is None:
                    notice = in_force
        if problems:
            problems.sort(key=lambda p: _FIELD_ORDER.get(p.field, -1))  # stable: file order
            return None
        assert line.customer_id is not None  # noqa: S101 - no problems: all set
        assert line.purpose is not None  # noqa: S101
        assert line.at is not None  # noqa: S101
        assert line.channel is not None  # noqa: S101
        assert notice is not None  # noqa: S101
        try:
            event = ConsentEvent(
                customer_id=line.customer_id,
                purpose=line.purpose,
                kind=line.kind,
                at=line.at,
                channel=line.channel,
                notice_version=notice,
                evidence_hash=line.evidence_hash,
                expires_at=line.expires_at,
                separate=line.separate,
                guardian_ref=line.guardian_ref,
                recorded_by=self.principal,
            )
        except ConsentRecordError:
            problems.append(ImportProblem(line.line, "*", "invalid_consent"))
            return None
        self.known.history.setdefault((event.customer_id, event.purpose), []).append(event)
        return event

    def _grant_in_force(self, customer_id: str, purpose: str, at: dt.datetime) -> str | None:
        """The notice version of the grant in force at `at`, or None if there is none."""
        earlier = [e for e in self.known.history.get((customer_id, purpose), ()) if e.at <= at]
        state = derive_states(earlier).get((customer_id, purpose))
        if state is None or not state.granted or state.withdrawn_at is not None:
            return None
        return state.notice_version

    def _tell(self, phase: Phase, bytes_read: int) -> None:
        self.progress(ImportProgress(phase, bytes_read, self.rows_read, self.loaded, self.rejected))

    async def checked(self, phase: Phase) -> AsyncGenerator[ConsentEvent, None]:
        """The events of the lines that pass every check; the others are counted and reported."""
        source = open_source(self.path, LAYOUT)
        try:
            for rows in _chunks(source.rows(), _CHUNK):
                lines = [
                    check_line(
                        row.line,
                        row.values,
                        csv=self.csv,
                        purposes=self.purposes,
                        now=self.now,
                        read_problems=row.problems,
                    )
                    if not row.unreadable
                    else _Line(row.line, list(row.problems))
                    for row in rows
                ]
                await self._learn({line.customer_id for line in lines if line.customer_id})
                for line in lines:
                    self.rows_read += 1
                    event = self._settle(line)
                    if event is None:
                        self._reject(line.problems)
                    else:
                        yield event
                self._tell(phase, source.bytes_read)
            self._tell(phase, source.bytes_read)
        finally:
            source.close()

    async def validate_only(self) -> None:
        async with contextlib.aclosing(self.checked("validating")) as checked:
            async for _ in checked:
                pass

    async def load(self, transaction: Transaction, *, strict: bool) -> None:
        batch: list[ConsentEvent] = []
        # aclosing(): a failed batch must not leave the file open until garbage collection.
        async with contextlib.aclosing(self.checked("loading")) as checked:
            async for event in checked:
                if strict and self.rejected:
                    raise _FileChangedError
                batch.append(event)
                if len(batch) >= self.batch_size:
                    await self._flush(batch, transaction)
                    batch = []
        if strict and self.rejected:
            raise _FileChangedError
        if batch:
            await self._flush(batch, transaction)

    async def _flush(self, batch: list[ConsentEvent], transaction: Transaction) -> None:
        kinds: dict[str, set[str]] = {}
        for event in batch:
            kinds.setdefault(f"consent:{event.purpose}", set()).add(event.kind)
        rows = consent_rows(batch, self.request_id)
        async with transaction() as conn:
            await conn.execute(insert(consents), rows)
            await append_entry(
                conn,
                AuditEntry(
                    occurred_at=dt.datetime.now(dt.UTC),
                    request_id=self.request_id,
                    action=ACTION,
                    outcome=Outcome.ALLOWED,
                    status=200,
                    principal_id=self.principal,
                    entity=ENTITY,
                    record_ids=tuple(str(row["id"]) for row in rows),
                    subject_ids=tuple(dict.fromkeys(event.customer_id for event in batch)),
                    fields={name: ",".join(sorted(kinds[name])) for name in sorted(kinds)},
                    policy_version=self.policy_version,
                ),
            )
        self.loaded += len(batch)
        self.grants += sum(event.kind == "grant" for event in batch)


async def import_consents(
    settings: Settings,
    path: Path,
    *,
    all_or_nothing: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[ImportProgress], None] = ignore_progress,
) -> ConsentImportReport:
    """Import consent events from `path` (.csv, .jsonl or .ndjson) into the store of `settings`.

    Raises ImportSourceError if the file is unusable, MasterKeyError, StoreNotReadyError
    or NoPolicyError if the store is not there, ConsentImportAbortedError if the store
    fails mid-way (with what was committed before).
    """
    if batch_size < 1:
        msg = "batch_size must be at least 1"
        raise ValueError(msg)
    open_source(path, LAYOUT).close()  # refuse before the store
    provider = LocalKeyProvider(settings.data_dir)
    provider.load()  # no master key, no store: stop before creating any database file
    db = create_database(settings)
    try:
        protector = await open_import_protector(settings, db, provider)
        async with db.reader.connect() as conn:
            version, policy = await load_latest_policy(conn)
        job = _Import(
            path,
            db,
            protector,
            purposes=policy.purposes.keys(),
            policy_version=version,
            batch_size=batch_size,
            progress=progress,
        )
        try:
            if not all_or_nothing:
                await job.load(db.writer.begin, strict=False)
                return job.report()
            await job.validate_only()
            if job.rejected:
                return job.report(refused=True)
            job.restart()
            try:
                async with db.writer.begin() as conn:
                    await job.load(lambda: within(conn), strict=True)
            except BaseException:
                job.loaded = job.grants = 0  # rolled back
                raise
            return job.report()
        except _FileChangedError:
            msg = "the file or the store changed between validation and loading; nothing was stored"
            raise ImportSourceError(msg) from None
        except (SQLAlchemyError, MasterKeyError, DataKeyMissingError, OSError) as exc:
            # Only the type: a driver's message can quote a stored value.
            failed = "reading the file" if isinstance(exc, OSError) else "the store"
            what = "nothing was stored" if all_or_nothing else "the failing batch was not stored"
            msg = f"{failed} failed during the import ({type(exc).__name__}); {what}"
            raise ConsentImportAbortedError(msg, job.report()) from None
    finally:
        await db.dispose()
