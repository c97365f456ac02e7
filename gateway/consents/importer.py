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
  31), by the one age rule of every door (gateway/customers/age.py): age comes from
  the decrypted birth date or resident ID, and birth data that cannot be read counts
  as a minor's (fail closed);
- a withdrawal needs a grant in force at `at`, in the store's history or on an earlier
  accepted line of the same file (`not_granted` otherwise), and it inherits that
  grant's notice version when it names none;
- an expiry must come after `at` (an expired consent is valid history).

Times are stored in UTC so that the history's text order is its time order.

Valid lines are appended by the shared import job (gateway/bulk/job.py): each batch
commits with one audit entry that names the customers and, per purpose, whether consent
was granted or withdrawn: never a value. By default a bad line costs only itself; with
`all_or_nothing` the whole file is validated first and loaded in one transaction.
Problems name a line, a field and a reason word, never a value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection
from ulid import ULID

from gateway.bulk.job import DEFAULT_BATCH, Checked, run_import
from gateway.bulk.report import ImportProblem, ImportProgress, ImportReport, ignore_progress
from gateway.bulk.source import SourceRow, source_format
from gateway.compliance.entries import cli_principal
from gateway.compliance.request_audit import RequestAudit
from gateway.consents.store import consent_events
from gateway.customers.age import AGE_FIELDS, ages_of
from gateway.db.engine import Database
from gateway.db.schema import consents, store_tables
from gateway.encryption.protection import Protector
from gateway.policy.store import load_latest_policy
from gateway.retention.activity import latest, record_activity
from gateway.settings import Settings
from policies.catalog import Entity, FieldSpec, Sensitivity
from policies.consent import (
    Age,
    ConsentEvent,
    ConsentKind,
    ConsentRecordError,
    SeparateScope,
    derive_states,
)

ENTITY = "consents"
ACTION = "consents.import"
MAX_EVIDENCE = 4096
# Lines validated together: one customer lookup, one decryption round trip and one
# consent history query per chunk, and a progress report after each.
_CHUNK = 250
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # as the API's channel, notice and guardian
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_SCOPE_SEPARATORS = re.compile(r"[;\s]+")
_KINDS: tuple[ConsentKind, ...] = ("grant", "withdraw")


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
class ConsentImportReport(ImportReport):
    @property
    def grants(self) -> int:
        return self.tally.get("grants", 0)

    @property
    def withdrawals(self) -> int:
        return self.loaded - self.grants

    @property
    def consents_per_second(self) -> float:
        return self.rows_per_second


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
    age: Age | None = None


@dataclass(slots=True)
class _Known:
    """What the import has learned from the store, and the lines it accepted so far."""

    customers: dict[str, _Customer | None] = field(default_factory=dict)
    history: dict[tuple[str, str], list[ConsentEvent]] = field(default_factory=dict)


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


class ConsentRows:
    """The consent import's line rules for the bulk job: each chunk of lines is checked
    on its own, then against the store (customers, ages, history) in one round trip."""

    layout = LAYOUT
    chunk = _CHUNK

    def __init__(
        self,
        path: Path,
        db: Database,
        protector: Protector,
        *,
        purposes: Collection[str],
        policy_version: int,
    ) -> None:
        self.csv = source_format(path) == "csv"
        self.db = db
        self.protector = protector
        self.purposes = frozenset(purposes)
        self.policy_version = policy_version
        self.principal = cli_principal()
        self.now = dt.datetime.now(dt.UTC)
        self.known = _Known()

    def restart(self) -> None:
        """Forget the validation pass before the loading pass reads the file again."""
        self.known = _Known()

    async def check(self, rows: Sequence[SourceRow]) -> list[Checked[ConsentEvent]]:
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
        return [(self._settle(line), line.problems) for line in lines]

    async def _learn(self, customer_ids: set[str]) -> None:
        """Look up customers not seen yet: existence, erasure, age, consent history."""
        new = sorted(customer_ids - self.known.customers.keys())
        if not new:
            return
        table = store_tables()["customers"]
        query = select(table.c.id, table.c.erased_at, *(table.c[n] for n in AGE_FIELDS))
        async with self.db.reader.connect() as conn:
            rows = (await conn.execute(query.where(table.c.id.in_(new)))).all()
            live = [row._mapping for row in rows if row.erased_at is None]
            events = await consent_events(conn, [str(row["id"]) for row in live])
        customers = self.known.customers
        customers.update(dict.fromkeys(new))
        customers.update({str(row.id): _Customer(erased=True) for row in rows if row.erased_at})
        ages = ages_of(await self.protector.reveal("customers", live, AGE_FIELDS))
        customers.update({cid: _Customer(erased=False, age=age) for cid, age in ages.items()})
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
        if customer is not None and customer.age is not None and line.at is not None:
            if (
                line.kind == "grant"
                and not line.guardian_given
                and customer.age.minor_on(line.at.date())
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

    async def prepare(self, batch: Sequence[ConsentEvent]) -> Sequence[ConsentEvent]:
        return batch

    async def store(
        self, conn: AsyncConnection, prepared: Sequence[ConsentEvent], audit: RequestAudit
    ) -> None:
        kinds: dict[str, set[str]] = {}
        for event in prepared:
            kinds.setdefault(f"consent:{event.purpose}", set()).add(event.kind)
        rows = consent_rows(prepared, audit.request_id)
        await conn.execute(insert(consents), rows)
        # Consent changes are the customers' activity: one statement per batch.
        times: dict[str, dt.datetime] = {}
        for event in prepared:
            times = latest(times, {event.customer_id: event.at})
        await record_activity(conn, times)
        audit.record_ids = tuple(str(row["id"]) for row in rows)
        audit.subject_ids = tuple(dict.fromkeys(event.customer_id for event in prepared))
        audit.fields = {name: ",".join(sorted(kinds[name])) for name in sorted(kinds)}
        audit.policy_version = self.policy_version

    def tally(self, batch: Sequence[ConsentEvent]) -> Mapping[str, int]:
        return {"grants": sum(event.kind == "grant" for event in batch)}


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
    or NoPolicyError if the store is not there, ImportAbortedError if the store fails
    mid-way (with what was committed before).
    """

    async def rules(db: Database, protector: Protector) -> ConsentRows:
        async with db.reader.connect() as conn:
            version, policy = await load_latest_policy(conn)
        return ConsentRows(
            path, db, protector, purposes=policy.purposes.keys(), policy_version=version
        )

    return await run_import(
        settings,
        path,
        rules,
        layout=LAYOUT,
        action=ACTION,
        entity=ENTITY,
        report_type=ConsentImportReport,
        all_or_nothing=all_or_nothing,
        batch_size=batch_size,
        progress=progress,
    )
