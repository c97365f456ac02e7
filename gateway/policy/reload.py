"""Hot reload: a new policy version is in force on every gateway process within a second.

Each process compares a cheap *stamp* of the store — the newest policy version and the
count of API keys issued and revoked — with the one it loaded, and reloads when they
differ (`GatewayState.reload_policy`: built off to the side, swapped in by one
assignment; requests in flight keep the snapshot they started with).

- PostgreSQL: saving a version (or changing a key) NOTIFYs `wardgate_policy` in the
  same transaction. Each process keeps one dedicated asyncpg connection LISTENing,
  pings it now and then, and reconnects with backoff when it drops; a slow safety
  check (`WARDGATE_POLICY_POLL_SECONDS`, default 5 s) covers a notification missed
  while it was down.
- SQLite has no notifications: the stamp is checked every 250 ms on the reader pool
  (one indexed aggregate query, answered from the page cache).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import asyncpg
import structlog
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.schema import api_keys, policy_versions
from gateway.policy.store import POLICY_CHANNEL
from gateway.state import GatewayState

log = structlog.get_logger("wardgate.policy")

LISTENER_NAME = "wardgate-policy-listener"
"""application_name of the listening connection (what pg_stat_activity shows)."""
TASK_NAMES = ("policy-watch", "policy-listen")
"""The reloader's background tasks (tests tell its queries from a request's by them)."""
MIN_BACKOFF = 0.1
MAX_BACKOFF = 5.0
STABLE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class PolicyStamp:
    """What changes when policy or keys change: versions and keys are only ever added,
    and a key is revoked once, so the three numbers only grow."""

    version: int
    keys: int
    revoked_keys: int


_STAMP = select(
    select(func.max(policy_versions.c.version)).scalar_subquery(),
    select(func.count()).select_from(api_keys).scalar_subquery(),
    select(func.count(api_keys.c.revoked_at)).scalar_subquery(),
)


async def read_stamp(engine: AsyncEngine) -> PolicyStamp:
    async with engine.connect() as conn:
        row = (await conn.execute(_STAMP)).one()
    return PolicyStamp(version=int(row[0] or 0), keys=int(row[1]), revoked_keys=int(row[2]))


def listen_dsn(async_url: str) -> str:
    """The asyncpg DSN of a `postgresql+asyncpg://` SQLAlchemy URL."""
    return make_url(async_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PolicyReloader:
    """Keeps one process's policy snapshot current with the store."""

    def __init__(self, state: GatewayState, *, poll_seconds: float, dsn: str | None = None) -> None:
        self._state = state
        self._poll_seconds = poll_seconds
        self._dsn = dsn
        self._stamp: PolicyStamp | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._failing = False
        self.listening = asyncio.Event()
        """Set while the PostgreSQL listener is connected (tests wait on it)."""
        self.connections = 0
        """How often the listener has connected."""

    def __repr__(self) -> str:
        return f"PolicyReloader(stamp={self._stamp}, listen={self._dsn is not None})"

    @classmethod
    def for_state(cls, state: GatewayState) -> PolicyReloader:
        settings = state.settings
        dsn = None if settings.is_sqlite else listen_dsn(settings.async_database_url)
        return cls(state, poll_seconds=settings.policy_poll_interval, dsn=dsn)

    async def start(self) -> None:
        # The snapshot was loaded a moment ago: reload once after taking the stamp, so a
        # change made in between is not missed (same version: only the keys are re-read).
        stamp = await read_stamp(self._state.db.reader)
        await self._reload(stamp)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._watch(), name=TASK_NAMES[0]))
        if self._dsn is not None:
            self._tasks.append(loop.create_task(self._listen(self._dsn), name=TASK_NAMES[1]))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def check(self) -> bool:
        """Reload if the store's stamp moved; True when it did."""
        stamp = await read_stamp(self._state.db.reader)
        if stamp == self._stamp:
            return False
        await self._reload(stamp)
        return True

    async def _reload(self, stamp: PolicyStamp) -> None:
        started = time.perf_counter()
        before = self._stamp
        previous = self._state.snapshot.version
        snapshot = await self._state.reload_policy()  # logs `policy reloaded` on a new version
        self._stamp = stamp
        keys_changed = before is not None and (before.keys, before.revoked_keys) != (
            stamp.keys,
            stamp.revoked_keys,
        )
        if snapshot.version == previous and keys_changed:
            ms = round((time.perf_counter() - started) * 1000, 1)
            log.info("api keys reloaded", policy_version=snapshot.version, ms=ms)

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)
            self._wake.clear()
            try:
                await self.check()
            except Exception as exc:  # noqa: BLE001 - the old policy stays; the next check retries
                if not self._failing:
                    log.error("policy check failed", error_type=type(exc).__name__)
                self._failing = True
            else:
                if self._failing:
                    log.info("policy check recovered")
                self._failing = False

    def _notified(self, *_args: object) -> None:
        # asyncpg calls this on the loop thread with (connection, pid, channel, payload);
        # the payload is only a hint: the stamp decides.
        self._wake.set()

    async def _listen(self, dsn: str) -> None:
        backoff = MIN_BACKOFF
        while True:
            try:
                conn = await asyncpg.connect(
                    dsn, timeout=5, server_settings={"application_name": LISTENER_NAME}
                )
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                log.warning(
                    "policy listener cannot connect",
                    error_type=type(exc).__name__,
                    retry_seconds=backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            connected_at = time.monotonic()
            try:
                await self._serve(conn)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("policy listener connection lost", error_type=type(exc).__name__)
            finally:
                self.listening.clear()
                if not conn.is_closed():
                    conn.terminate()
            # A connection that held a while earned a quick retry; one dropped at once
            # (a server refusing us) backs off.
            if time.monotonic() - connected_at > STABLE_SECONDS:
                backoff = MIN_BACKOFF
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _serve(self, conn: asyncpg.Connection) -> None:
        """Listen on one connection until it is lost."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(POLICY_CHANNEL, self._notified)
        self.connections += 1
        self.listening.set()
        self._wake.set()  # whatever changed while nobody listened: check now
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), timeout=self._poll_seconds)
            if lost.is_set():
                log.warning("policy listener connection lost", error_type="terminated")
                return
            # A half-open connection would never tell: ask it something now and then.
            await conn.fetchval("SELECT 1", timeout=2)
