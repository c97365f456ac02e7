"""Plan warm-up on reload: the plans requests use are ready at the swap, the others are
compiled after it (in the background), and a warm-up overtaken by a newer version stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from gateway.governance.plan_warmup import wanted_plans
from gateway.policy.store import load_latest_policy, save_policy_version
from gateway.settings import Settings
from gateway.state import GatewayState, PlanWarmUp, open_gateway
from policies.plan import PolicyEngine
from tests.helpers.reload import CLEAR_PHONE, sqlite_store, with_rule


def principal_plans(state: GatewayState, pid: str) -> list[tuple[frozenset[str], str]]:
    [principal] = [p for p in state.snapshot.directory.principals() if p.id == pid]
    return [(principal.roles, purpose) for purpose in sorted(principal.purposes)]


async def new_version(state: GatewayState) -> None:
    async with state.db.writer.begin() as conn:
        _, document = await load_latest_policy(conn)
        await save_policy_version(
            conn, with_rule(document, CLEAR_PHONE), author="test", comment="warm-up"
        )


@asynccontextmanager
async def opened(
    settings: Settings, warm: PlanWarmUp = PlanWarmUp.NOW
) -> AsyncIterator[GatewayState]:
    """The gateway on `settings`; on the way out its background warm-ups are awaited and
    its engines disposed."""
    state = await open_gateway(settings, warm=warm)
    try:
        yield state
    finally:
        await state.warmer.settle()
        await state.db.dispose()


def test_given_plans_asked_for_then_in_use_lists_them_most_recent_first(tmp_path: Path) -> None:
    """Warm-up compiles do not count as use."""

    settings = sqlite_store(tmp_path)

    async def run() -> None:
        async with opened(settings) as state:
            engine = state.snapshot.engine
            desk = principal_plans(state, "support-desk")[0]
            analytics = principal_plans(state, "analytics-job")[0]
            marketing = principal_plans(state, "marketing-app")[0]
            assert state.binder.in_use() == []  # start-up warmed everything, nobody asked
            state.binder.plan(engine, *desk)
            state.binder.plan(engine, *analytics)
            state.binder.plan(engine, *desk)
            state.binder.compiled(engine, *marketing)
            assert state.binder.in_use() == [desk, analytics]

    asyncio.run(run())


def test_given_plans_in_use_then_wanted_puts_them_first_once_and_drops_unknown_purposes(
    tmp_path: Path,
) -> None:
    settings = sqlite_store(tmp_path)

    async def run() -> None:
        async with opened(settings) as state:
            snapshot = state.snapshot
            analytics = principal_plans(state, "analytics-job")[0]
            gone = (analytics[0], "no-such-purpose")
            hot, rest = wanted_plans(snapshot.engine, snapshot.directory, [analytics, gone])
            assert hot == [analytics]
            assert analytics not in rest
            everyone = {
                key
                for principal in snapshot.directory.principals()
                for key in principal_plans(state, principal.id)
            }
            assert set(hot + rest) == everyone
            assert len(hot + rest) == len(everyone)

    asyncio.run(run())


def test_given_a_reload_then_the_plan_in_use_is_ready_at_the_swap_and_the_rest_follow(
    tmp_path: Path,
) -> None:
    settings = sqlite_store(tmp_path)

    async def run() -> None:
        async with opened(settings) as state:
            analytics = principal_plans(state, "analytics-job")[0]
            state.binder.plan(state.snapshot.engine, *analytics)
            await new_version(state)
            snapshot = await state.reload_policy()
            assert snapshot.version == 2
            assert state.binder.is_cached(snapshot.engine, *analytics)
            await state.warmer.settle()
            hot, rest = wanted_plans(snapshot.engine, snapshot.directory)
            assert all(state.binder.is_cached(snapshot.engine, *key) for key in hot + rest)

    asyncio.run(run())


def test_given_a_warm_up_no_longer_wanted_then_it_compiles_nothing_more(tmp_path: Path) -> None:
    settings = sqlite_store(tmp_path)

    async def run() -> None:
        async with opened(settings) as state:
            await new_version(state)
            async with state.db.reader.connect() as conn:
                version, document = await load_latest_policy(conn)
            engine = PolicyEngine(document, state.catalog, version)
            _, pending = wanted_plans(engine, state.snapshot.directory)
            assert pending
            state.warmer.warm_later(engine, pending, lambda: False)
            await state.warmer.settle()
            assert not any(state.binder.is_cached(engine, *key) for key in pending)
            state.warmer.warm_later(engine, pending, lambda: True)
            await state.warmer.settle()
            assert all(state.binder.is_cached(engine, *key) for key in pending)

    asyncio.run(run())


def test_given_gateway_opened_twice_in_a_process_then_second_reuses_engine_and_its_plans(
    tmp_path: Path,
) -> None:
    """`wardgate serve` opens the gateway for its pre-flight check, then for the app: the
    plans are compiled once."""
    settings = sqlite_store(tmp_path)

    async def run() -> None:
        async with opened(settings) as first:
            pass  # the pre-flight check: opened and closed
        async with opened(settings) as second:
            assert second.snapshot.engine is first.snapshot.engine
            desk = principal_plans(second, "support-desk")[0]
            assert second.binder.is_cached(second.snapshot.engine, *desk)

    asyncio.run(run())


def test_given_new_version_stored_between_opens_then_next_open_uses_new_engine(
    tmp_path: Path,
) -> None:
    """The reuse never serves a replaced version: a new version, a new engine and plans."""
    settings = sqlite_store(tmp_path)

    async def run() -> None:
        async with opened(settings) as first:
            await new_version(first)
        async with opened(settings) as second:
            engine = second.snapshot.engine
            assert engine is not first.snapshot.engine
            assert engine.version == first.snapshot.version + 1
            assert engine.document == with_rule(first.snapshot.document, CLEAR_PHONE)

    asyncio.run(run())


def test_given_other_store_at_same_version_then_its_own_policy_is_used(tmp_path: Path) -> None:
    """Equal version numbers are not enough: version 2 of another store is another policy."""
    one = sqlite_store(tmp_path / "one")
    other = sqlite_store(tmp_path / "other")

    async def run() -> None:
        async with opened(other) as state, state.db.writer.begin() as conn:
            _, document = await load_latest_policy(conn)
            await save_policy_version(conn, document, author="test", comment="unchanged")
        async with opened(one) as state:
            await new_version(state)  # version 2 with the clear-phone rule
        async with opened(one) as with_clear_phone:
            pass
        async with opened(other) as without:
            assert without.snapshot.version == with_clear_phone.snapshot.version == 2
            assert without.snapshot.engine is not with_clear_phone.snapshot.engine
            assert without.snapshot.engine.document == document

    asyncio.run(run())


def test_given_warm_up_later_then_a_request_before_it_ends_gets_the_same_plan(
    tmp_path: Path,
) -> None:
    """The server is ready before its plans are compiled: a request meanwhile compiles
    its own, and it is the plan the warm-up would have made."""
    settings = sqlite_store(tmp_path / "later")
    reference = sqlite_store(tmp_path / "now")

    async def run() -> None:
        async with opened(reference) as warmed:
            pass
        async with opened(settings, PlanWarmUp.LATER) as state:
            engine = state.snapshot.engine
            desk = principal_plans(state, "support-desk")[0]
            asked = state.binder.plan(engine, *desk)  # whether or not the warm-up got there
            assert asked.policy == warmed.binder.compiled(warmed.snapshot.engine, *desk).policy
            await state.warmer.settle()
            everyone = [
                key
                for principal in state.snapshot.directory.principals()
                for key in principal_plans(state, principal.id)
            ]
            assert all(state.binder.is_cached(engine, *key) for key in everyone)
            assert state.binder.plan(engine, *desk) is asked

    asyncio.run(run())


def test_given_no_warm_up_then_nothing_compiled_until_asked(tmp_path: Path) -> None:
    settings = sqlite_store(tmp_path)

    async def run() -> None:
        async with opened(settings, PlanWarmUp.NONE) as state:
            engine = state.snapshot.engine
            desk = principal_plans(state, "support-desk")[0]
            assert not state.binder.is_cached(engine, *desk)
            state.binder.plan(engine, *desk)
            assert state.binder.is_cached(engine, *desk)

    asyncio.run(run())
