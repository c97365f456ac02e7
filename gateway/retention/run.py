"""A retention run: find lapsed customers (`gateway.retention.lapse`) and erase them by
crypto-shredding, in bounded batches, one audit entry per batch.

The scan walks live customers whose last activity is older than the longest
non-consent retention period (one indexed range, in id order, a page at a time), loads
each page's consent events in one query and applies the lapse rule in Python. A dry run
stops there and reports; a real run erases each page's lapsed customers that are not
under a legal hold in one transaction, with that batch's audit entry (action
`retention.erase`, purpose `erasure`, the erased ids as subjects, never a value).

Resumable: progress lives in the store. An interrupted run leaves whole batches erased
or not; the next run finds only the customers still to erase. Safe to run twice at
once: `shred_customers` claims each customer with a conditional UPDATE, so the second
run skips whom the first erased, and each erasure has exactly one audit entry.
The lapse rule is applied at one instant, `now`, passed in (a fixed clock in tests), so
a dry run and a real run at the same `now` find the same customers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import Outcome
from gateway.compliance.entries import CLI_STATUS, append_in_transaction
from gateway.compliance.request_audit import RequestAudit
from gateway.consents.store import consent_events
from gateway.db.engine import Database
from gateway.db.schema import LAST_ACTIVITY_COLUMN, customers_table
from gateway.retention.activity import stamp
from gateway.retention.holds import active_hold
from gateway.retention.lapse import LapseCounts, activity_cutoff, customer_lapse
from keys import KeyStore
from policies.catalog import Catalog
from policies.consent import ConsentState, derive_states
from policies.purposes import Purpose

DEFAULT_BATCH = 200
ERASE_ACTION = "retention.erase"
ERASURE_PURPOSE = "erasure"


@dataclass(slots=True)
class RetentionReport:
    """What a run found and did. `lapsed` excludes customers under a hold (`held`)."""

    now: dt.datetime
    dry_run: bool
    scanned: int = 0
    lapsed: int = 0
    held: int = 0
    erased: int = 0
    batches: int = 0
    counts: LapseCounts = field(default_factory=LapseCounts)
    audit_ids: list[int] = field(default_factory=list)
    lapsed_ids: list[str] = field(default_factory=list)
    """The ids counted in `lapsed` (ids only; never printed by the CLI)."""

    @property
    def by_purpose(self) -> dict[str, dict[str, int]]:
        return self.counts.as_dict()

    def to_json(self) -> dict[str, object]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "scanned": self.scanned,
            "lapsed": self.lapsed,
            "held": self.held,
            "erased": self.erased,
            "batches": self.batches,
            "by_purpose": self.by_purpose,
            "audit_ids": list(self.audit_ids),
        }


@dataclass(frozen=True, slots=True)
class RunContext:
    """Who runs it, for the batch entries: the CLI's or the schedule's principal."""

    principal_id: str
    request_id: str
    method: str


def _candidates(cutoff: str, after: str | None, limit: int | None = None) -> Select[Any]:
    table = customers_table()
    activity = table.c[LAST_ACTIVITY_COLUMN]
    where = and_(table.c.erased_at.is_(None), activity.is_not(None), activity < cutoff)
    if after is not None:
        where = and_(where, table.c.id > after)
    query = select(
        table.c.id, activity.label("last_activity"), active_hold(table.c.id).label("held")
    )
    query = query.where(where).order_by(table.c.id)
    return query.limit(limit) if limit is not None else query


async def count_candidates(
    conn: AsyncConnection, purposes: Sequence[Purpose], now: dt.datetime
) -> int:
    """How many customers the scan will look at (for a progress bar's total)."""
    cutoff = stamp(activity_cutoff(purposes, now))
    subquery = _candidates(cutoff, None).subquery()
    return int((await conn.execute(select(func.count()).select_from(subquery))).scalar_one())


def _batch_audit(context: RunContext, erased: dict[str, int]) -> RequestAudit:
    ids = tuple(sorted(erased))
    return RequestAudit(
        request_id=context.request_id,
        method=context.method,
        path="",
        action=ERASE_ACTION,
        principal_id=context.principal_id,
        purpose=ERASURE_PURPOSE,
        legal_basis="legal_obligation",
        entity="customers",
        record_ids=ids,
        subject_ids=ids,
        fields={"*": "erased:retention_lapsed", "keys": f"destroyed:{sum(erased.values())}"},
        outcome=Outcome.ALLOWED,
    )


async def _erase_batch(
    db: Database,
    keystore: KeyStore,
    catalog: Catalog,
    ids: Sequence[str],
    context: RunContext,
) -> tuple[int, int | None]:
    """Erase these lapsed customers unless a hold was set meanwhile; one transaction,
    one audit entry (none if another run erased them all first)."""
    # Imported here: `gateway.customers.erase` brings the read pipeline and with it the
    # PII detector (seconds to load); `wardgate --help` imports this module for a constant.
    from gateway.customers.erase import shred_customers

    erased_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    table = customers_table()
    async with db.writer.begin() as conn:
        erased = await shred_customers(
            conn,
            keystore,
            catalog.entity("customers"),
            ids,
            erased_at,
            unless=active_hold(table.c.id),
        )
        if not erased:
            return 0, None
        seq = await append_in_transaction(conn, _batch_audit(context, erased), CLI_STATUS)
    return len(erased), seq


async def run_retention(
    db: Database,
    keystore: KeyStore,
    catalog: Catalog,
    purposes: Sequence[Purpose],
    *,
    now: dt.datetime,
    dry_run: bool,
    context: RunContext,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] = lambda _: None,
    between_batches: Callable[[], Awaitable[None]] | None = None,
) -> RetentionReport:
    """Scan, and unless `dry_run` erase, the customers lapsed at `now`.

    `between_batches` runs after each erased batch (the schedule renews its lease
    there, and stops the run by raising if it lost it)."""
    report = RetentionReport(now=now, dry_run=dry_run)
    cutoff = stamp(activity_cutoff(purposes, now))
    after: str | None = None
    while True:
        async with db.reader.connect() as conn:
            page = (await conn.execute(_candidates(cutoff, after, batch_size))).all()
            if not page:
                break
            events = await consent_events(conn, [row.id for row in page])
        after = page[-1].id
        states: dict[str, dict[str, ConsentState]] = {}
        for (cid, purpose), state in derive_states(events).items():
            states.setdefault(cid, {})[purpose] = state
        to_erase: list[str] = []
        for row in page:
            last = dt.datetime.fromisoformat(row.last_activity)
            reasons = customer_lapse(purposes, states.get(row.id, {}), last, now)
            if reasons is None:
                continue
            if row.held:
                report.held += 1
                continue
            report.lapsed += 1
            report.lapsed_ids.append(row.id)
            report.counts.add(reasons)
            to_erase.append(row.id)
        report.scanned += len(page)
        if to_erase and not dry_run:
            erased, seq = await _erase_batch(db, keystore, catalog, to_erase, context)
            report.erased += erased
            if seq is not None:
                report.batches += 1
                report.audit_ids.append(seq)
            if between_batches is not None:
                await between_batches()
        progress(len(page))
    return report
