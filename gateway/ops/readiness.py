"""Readiness that tells the truth: ready only while an audit entry can be written.

Every governed request ends with a committed audit entry (no audit, no data), so a
gateway whose audit log cannot take an entry serves nothing but 503s and must leave the
load balancer's rotation. The checks, cheapest first, each with a reason word:

- `audit_unavailable`: the audit writer is not running, or its last batch failed and a
  probe entry (below) cannot be committed either;
- `read_only` / `disk_full` (embedded store): the data directory's file system is
  mounted read-only, or has less free space than `WARDGATE_READY_MIN_FREE_BYTES`;
- `store_unavailable`: the store does not answer a query within the timeout (a
  connection found dead is retried once on a fresh one: the pool heals itself, and a
  store that answers then is ready).

After an append failed, readiness does not wait for traffic to find out whether the log
recovered (a load balancer sends none to an unready gateway): it appends one probe
entry (`ops.audit_probe`) through the same writer, at most once a second. The entry
that proves the log writable again is itself recorded in the log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
import uuid
from dataclasses import dataclass, field

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import AuditEntry, AuditWriteError, Outcome
from gateway.db.faults import StoreFault, store_fault
from gateway.state import GatewayState

log = structlog.get_logger("wardgate.ready")

CHECK_TIMEOUT_SECONDS = 2.0
"""A store that takes longer than this to answer `SELECT 1` is not ready."""
PROBE_INTERVAL_SECONDS = 1.0
"""At most one probe entry per second while the audit log is failing."""
PROBE_ACTION = "ops.audit_probe"


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reason: str | None = None
    fault: str | None = None
    checks: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"status": "ready" if self.ready else "unavailable"}
        if self.reason is not None:
            body["reason"] = self.reason
        if self.fault is not None:
            body["fault"] = self.fault
        body["checks"] = self.checks
        return body


class ReadinessProbe:
    """One per gateway process: runs the checks and throttles probe entries."""

    def __init__(self, state: GatewayState) -> None:
        self._state = state
        self._probe_lock = asyncio.Lock()
        self._last_probe = 0.0

    async def check(self) -> Readiness:
        state = self._state
        checks: dict[str, str] = {}
        if not state.appender.running:
            checks["audit"] = "stopped"
            return Readiness(False, "audit_unavailable", None, checks)
        if state.db.is_sqlite:
            disk = _disk_state(state.settings.data_dir, state.settings.ready_min_free_bytes)
            checks["disk"] = disk or "ok"
            if disk is not None:
                return Readiness(False, disk, None, checks)
        engines = [("store", state.db.reader)]
        if not state.db.is_sqlite:
            # The writer has a pool of its own, and the audit log is written through it.
            engines.append(("writer", state.db.writer))
        for name, engine in engines:
            fault = await _ping(engine)
            checks[name] = fault.value if fault else "ok"
            if fault is not None:
                return Readiness(False, "store_unavailable", fault.value, checks)
        if state.appender.failing:
            problem = await self._probe()
            checks["audit"] = problem or "ok"
            if problem is not None:
                return Readiness(False, "audit_unavailable", problem, checks)
        else:
            checks["audit"] = "ok"
        return Readiness(True, None, None, checks)

    async def _probe(self) -> str | None:
        """Append one probe entry; None once it is committed, else the fault word."""
        async with self._probe_lock:
            if not self._state.appender.failing:
                return None  # another request's entry, or a concurrent probe, committed
            if time.monotonic() - self._last_probe < PROBE_INTERVAL_SECONDS:
                return "append_failed"  # the latest attempt failed; try again later
            self._last_probe = time.monotonic()
            entry = AuditEntry(
                occurred_at=dt.datetime.now(dt.UTC),
                request_id=f"ready-{uuid.uuid4().hex}",
                action=PROBE_ACTION,
                outcome=Outcome.ALLOWED,
                status=200,
                reason="audit_recovery_probe",
            )
            try:
                await asyncio.wait_for(
                    self._state.appender.append(entry), CHECK_TIMEOUT_SECONDS * 2
                )
            except (AuditWriteError, SQLAlchemyError, OSError, TimeoutError) as exc:
                fault = store_fault(exc)
                return fault.value if fault else "append_failed"
            log.warning("audit log writable again")
            return None


async def _ping(engine: AsyncEngine) -> StoreFault | None:
    for attempt in (1, 2):
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except TimeoutError:
            return StoreFault.UNREACHABLE
        except (SQLAlchemyError, OSError) as exc:
            fault = store_fault(exc) or StoreFault.UNREACHABLE
            # A pooled connection that died (backend terminated) is dropped by the
            # pool: the second attempt says whether the store itself answers.
            if fault is StoreFault.CONNECTION_LOST and attempt == 1:
                continue
            return fault
        return None
    return StoreFault.UNREACHABLE  # pragma: no cover - the loop always returns


def _disk_state(data_dir: os.PathLike[str], min_free: int) -> str | None:
    try:
        stats = os.statvfs(data_dir)
    except OSError:
        return "store_unavailable"
    if stats.f_flag & os.ST_RDONLY:
        return "read_only"
    if stats.f_bavail * stats.f_frsize < min_free:
        return "disk_full"
    return None
