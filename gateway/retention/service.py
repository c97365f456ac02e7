"""Retention use cases shared by the CLI, the API and the schedule: a run under the
policy in force, and legal hold changes committed with their audit entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping

from gateway.compliance.entries import append_in_transaction
from gateway.compliance.request_audit import RequestAudit
from gateway.db.engine import Database
from gateway.policy.store import load_latest_policy
from gateway.retention import holds
from gateway.retention.run import DEFAULT_BATCH, RetentionReport, RunContext, run_retention
from keys import KeyStore
from policies.catalog import Catalog
from policies.purposes import Purpose


async def purposes_in_force(db: Database) -> list[Purpose]:
    """The purposes of the newest policy version: the ones whose retention applies."""
    async with db.reader.connect() as conn:
        _, document = await load_latest_policy(conn)
    return list(document.purposes.values())


async def retention_run(
    db: Database,
    keystore: KeyStore,
    catalog: Catalog,
    *,
    now: dt.datetime,
    dry_run: bool,
    context: RunContext,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] = lambda _: None,
    between_batches: Callable[[], Awaitable[None]] | None = None,
) -> RetentionReport:
    return await run_retention(
        db,
        keystore,
        catalog,
        await purposes_in_force(db),
        now=now,
        dry_run=dry_run,
        context=context,
        batch_size=batch_size,
        progress=progress,
        between_batches=between_batches,
    )


def summary_fields(report: RetentionReport) -> dict[str, str]:
    """A run's totals for its audit entry (counts only)."""
    fields = {
        "scanned": str(report.scanned),
        "lapsed": str(report.lapsed),
        "held": str(report.held),
        "erased": str(report.erased),
        "batches": str(report.batches),
    }
    for purpose, reasons in report.by_purpose.items():
        for reason, count in reasons.items():
            fields[f"lapsed:{purpose}:{reason}"] = str(count)
    return fields


async def change_hold(
    db: Database,
    audit: RequestAudit,
    status: int,
    customer_id: str,
    body: Mapping[str, object],
    *,
    release: bool,
    now: dt.datetime | None = None,
) -> holds.Hold:
    """Set or release a hold and append its audit entry in the same transaction.

    The entry names the customer and the reason word, never the note."""
    at = now or dt.datetime.now(dt.UTC)
    by = audit.principal_id or "unknown"
    change = holds.release_hold if release else holds.set_hold
    async with db.writer.begin() as conn:
        hold = await change(conn, customer_id, body, by=by, at=at)
        audit.entity = "legal_holds"
        audit.record_ids = (hold.id,)
        audit.subject_ids = (customer_id,)
        word = hold.release_reason if release else hold.reason
        audit.fields = {"legal_hold": f"{'released' if release else 'set'}:{word}"}
        await append_in_transaction(conn, audit, status)
    return hold
