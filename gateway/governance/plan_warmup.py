"""Plan warm-up: compile the field plans requests will ask for before they ask.

A plan takes tens of milliseconds to compile (many casbin questions). At start-up every
known principal's plans are compiled. On a reload the new version goes into force after
at most `WARM_BEFORE_SWAP_SECONDS` of compiling the plans requests have been asking for
(so the traffic being served does not compile on the event loop after the swap); the
rest are compiled after the swap in a worker thread that neither the reload nor the
change request that triggered it waits for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import structlog

from gateway.access.authentication import PrincipalDirectory
from gateway.governance.plans import PlanBinder, PlanKey
from policies.plan import PolicyEngine

log = structlog.get_logger("wardgate.policy")

WARM_BEFORE_SWAP_SECONDS = 0.15
"""Compiling of plans in use a reload may spend before the new version goes into force:
short, so that a change is in force everywhere within a second on a busy machine."""


def wanted_plans(
    engine: PolicyEngine, directory: PrincipalDirectory, in_use: Iterable[PlanKey] = ()
) -> tuple[list[PlanKey], list[PlanKey]]:
    """(roles, purpose) to compile for `engine`, each once: those of `in_use` that still
    apply, and then every other known principal's for each purpose it may declare.
    Purposes the policy lacks are left out (asking for them is refused before any plan
    is taken)."""
    purposes = engine.document.purposes
    hot = {key: None for key in in_use if key[1] in purposes}
    rest: dict[PlanKey, None] = {}
    for principal in directory.principals():
        for purpose in sorted(principal.purposes):
            key = (principal.roles, purpose)
            if purpose in purposes and key not in hot:
                rest[key] = None
    return list(hot), list(rest)


class PlanWarmer:
    """Compiles plans into the binder's cache, now or in the background."""

    def __init__(self, binder: PlanBinder) -> None:
        self._binder = binder
        # Strong references: the loop keeps only weak ones to running tasks.
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"PlanWarmer(running={len(self._tasks)})"

    def warm(
        self, engine: PolicyEngine, pending: list[PlanKey], deadline: float | None = None
    ) -> list[PlanKey]:
        """Compile until done or past `deadline` (monotonic); returns what is left."""
        for index, (roles, purpose) in enumerate(pending):
            if deadline is not None and time.monotonic() > deadline:
                return pending[index:]
            self._binder.compiled(engine, roles, purpose)
        return []

    def warm_later(
        self, engine: PolicyEngine, pending: list[PlanKey], wanted: Callable[[], bool]
    ) -> None:
        """Compile `pending` in a worker thread, stopping early once `wanted()` is false (a
        newer version is being built: it must not share the CPU with obsolete plans)."""

        def run() -> None:
            for roles, purpose in pending:
                if not wanted():
                    return
                self._binder.compiled(engine, roles, purpose)

        task = asyncio.get_running_loop().create_task(
            asyncio.to_thread(run), name=f"plan-warm-up-v{engine.version}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # Only a cache left cold: a request compiles its own plan when it needs it.
            log.error("plan warm-up failed", error_type=type(exc).__name__)

    async def settle(self) -> None:
        """Wait for background warm-ups (before shutting down)."""
        if self._tasks:
            # Failures were logged when they happened.
            await asyncio.gather(*self._tasks, return_exceptions=True)
