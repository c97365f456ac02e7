"""The retention schedule: one runner across processes (the lease row), daily, taking
over from a runner that died — and, opt-in, inside `wardgate serve`."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

from gateway.db.engine import create_database
from gateway.db.opening import open_protector
from gateway.retention.lease import Lease
from gateway.retention.run import RetentionReport
from gateway.retention.schedule import JOB, PRINCIPAL, RetentionSchedule
from gateway.settings import Settings
from tests.helpers.retention import FAR_FUTURE, entries, erased_ids, run_retention_at
from tests.helpers.servers import start_server
from tests.helpers.store import Store

DAY = dt.timedelta(days=1)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def _ticks(settings: Settings, clock: Clock, processes: int) -> list[RetentionReport | None]:
    """One tick of `processes` schedules at once, each with its own engines (as separate
    processes have)."""
    dbs = [create_database(settings) for _ in range(processes)]
    try:
        schedules = []
        for db in dbs:
            protector = await open_protector(settings, db)
            schedules.append(
                RetentionSchedule(
                    db,
                    protector.keystore,
                    protector.catalog,
                    interval=DAY,
                    check_seconds=1,
                    clock=clock,
                )
            )
        return list(await asyncio.gather(*(s.tick() for s in schedules)))
    finally:
        for db in dbs:
            await db.dispose()


def test_given_several_processes_ticking_at_once_then_one_runs_and_erases_each_once(
    fresh_store: Store,
) -> None:
    planned = run_retention_at(fresh_store, FAR_FUTURE, dry_run=True)

    reports = asyncio.run(_ticks(fresh_store.settings, Clock(FAR_FUTURE), 3))

    ran = [r for r in reports if r is not None]
    assert len(ran) == 1
    assert ran[0].erased == planned.lapsed > 0
    assert erased_ids(fresh_store) == set(planned.lapsed_ids)
    (run,) = entries(fresh_store, "retention.run")
    assert run["principal_id"] == PRINCIPAL
    audited = [c for e in entries(fresh_store, "retention.erase") for c in e["subject_ids"]]
    assert sorted(audited) == sorted(planned.lapsed_ids)


def test_given_a_run_completed_then_the_next_waits_a_day(fresh_store: Store) -> None:
    clock = Clock(FAR_FUTURE)
    asyncio.run(_ticks(fresh_store.settings, clock, 1))

    clock.now = FAR_FUTURE + DAY - dt.timedelta(seconds=1)
    too_soon = asyncio.run(_ticks(fresh_store.settings, clock, 2))
    clock.now = FAR_FUTURE + DAY
    next_day = asyncio.run(_ticks(fresh_store.settings, clock, 2))

    assert too_soon == [None, None]
    assert sum(r is not None for r in next_day) == 1
    assert len(entries(fresh_store, "retention.run")) == 2


def test_given_a_runner_that_died_holding_the_lease_then_another_takes_over_after_it_expires(
    fresh_store: Store,
) -> None:
    async def die_holding(now: dt.datetime) -> bool:
        db = create_database(fresh_store.settings)
        try:
            return await Lease(db, JOB, "dead-process", dt.timedelta(minutes=10)).acquire(now)
        finally:
            await db.dispose()

    assert asyncio.run(die_holding(FAR_FUTURE))
    clock = Clock(FAR_FUTURE + dt.timedelta(minutes=9))
    while_held = asyncio.run(_ticks(fresh_store.settings, clock, 1))
    clock.now = FAR_FUTURE + dt.timedelta(minutes=11)
    after_expiry = asyncio.run(_ticks(fresh_store.settings, clock, 1))

    assert while_held == [None]
    assert after_expiry[0] is not None


def test_given_two_servers_with_the_schedule_on_then_one_run_erases_the_lapsed(
    fresh_store: Store, tmp_path: Path
) -> None:
    planned = run_retention_at(fresh_store, FAR_FUTURE, dry_run=True)
    # Make them lapse today: their last activity long ago (they hold no valid consent).
    for customer in planned.lapsed_ids:
        fresh_store.sql(
            "UPDATE customers SET last_activity_at = '2015-01-01T00:00:00.000000+00:00' "
            "WHERE id = :id",
            {"id": customer},
        )
    env = {"WARDGATE_RETENTION_SCHEDULE": "1", "WARDGATE_RETENTION_CHECK_SECONDS": "0.5"}
    servers = [start_server(fresh_store.settings, tmp_path / f"s{i}.log", env) for i in range(2)]
    try:
        deadline = time.monotonic() + 120
        while not entries(fresh_store, "retention.run"):
            assert time.monotonic() < deadline, servers[0].log() + servers[1].log()
            time.sleep(0.2)
        time.sleep(3)  # both servers have checked again several times by now
    finally:
        for server in servers:
            server.stop()

    assert len(entries(fresh_store, "retention.run")) == 1
    assert erased_ids(fresh_store) == set(planned.lapsed_ids)
    audited = [c for e in entries(fresh_store, "retention.erase") for c in e["subject_ids"]]
    assert sorted(audited) == sorted(planned.lapsed_ids)


def test_given_the_default_settings_then_serve_schedules_nothing() -> None:
    assert Settings().retention_schedule is False
