"""The opt-in retention schedule of `wardgate serve` (WARDGATE_RETENTION_SCHEDULE).

Every process that serves checks every `retention_check_seconds` whether a run is due
(the last one completed at least `retention_interval_seconds` ago, daily by default)
and, if it can take the `retention` lease (`gateway.retention.lease`), runs it: so one
process runs it, however many workers and hosts serve. The run renews the lease after
each batch and stops if it lost it. Each erased batch leaves its `retention.erase`
audit entry, and the run one `retention.run` entry with its counts (principal
`wardgate:retention-schedule`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable

import structlog

from audit import Outcome
from gateway.compliance.entries import CLI_STATUS, append_in_transaction
from gateway.compliance.request_audit import RequestAudit
from gateway.db.engine import Database
from gateway.retention.lease import Lease
from gateway.retention.run import RetentionReport, RunContext
from gateway.retention.service import retention_run, summary_fields
from keys import KeyStore
from policies.catalog import Catalog

log = structlog.get_logger("wardgate.retention")

JOB = "retention"
PRINCIPAL = "wardgate:retention-schedule"
METHOD = "JOB"
LEASE_TTL = dt.timedelta(minutes=10)


class LeaseLostError(Exception):
    """Another process took the lease while this one ran: it stops between batches."""

    reason = "lease_lost"


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RetentionSchedule:
    def __init__(
        self,
        db: Database,
        keystore: KeyStore,
        catalog: Catalog,
        *,
        interval: dt.timedelta,
        check_seconds: float,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._db = db
        self._keystore = keystore
        self._catalog = catalog
        self._interval = interval
        self._check_seconds = check_seconds
        self._clock = clock
        self._lease = Lease(db, JOB, _holder(), LEASE_TTL)
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> RetentionReport | None:
        """Run retention if it is due and this process gets the lease; the report if it ran."""
        now = self._clock()
        if not await self._lease.acquire(now):
            return None
        completed: dt.datetime | None = None
        try:
            last = await self._lease.last_completed()
            if last is not None and now - last < self._interval:
                return None
            report = await self._run(now)
            completed = now
            return report
        finally:
            await self._lease.release(completed)

    async def _run(self, now: dt.datetime) -> RetentionReport:
        async def renew() -> None:
            if not await self._lease.renew(self._clock()):
                raise LeaseLostError

        audit = RequestAudit(
            request_id=uuid.uuid4().hex,
            method=METHOD,
            path="",
            action="retention.run",
            principal_id=PRINCIPAL,
            purpose="erasure",
            entity="customers",
            outcome=Outcome.ALLOWED,
        )
        try:
            report = await retention_run(
                self._db,
                self._keystore,
                self._catalog,
                now=now,
                dry_run=False,
                context=RunContext(PRINCIPAL, audit.request_id, METHOD),
                between_batches=renew,
            )
        except Exception as exc:
            audit.outcome = Outcome.FAILED
            audit.reason = getattr(exc, "reason", None) or "run_failed"
            with contextlib.suppress(Exception):
                await self._record(audit)
            raise
        audit.fields = summary_fields(report)
        await self._record(audit)
        log.info(
            "retention run", lapsed=report.lapsed, erased=report.erased, batches=report.batches
        )
        return report

    async def _record(self, audit: RequestAudit) -> None:
        async with self._db.writer.begin() as conn:
            await append_in_transaction(conn, audit, CLI_STATUS)

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception as exc:  # noqa: BLE001 - the schedule outlives one failed run
                log.warning("retention run failed", error=type(exc).__name__)
            await asyncio.sleep(self._check_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="wardgate-retention")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
