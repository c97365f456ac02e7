"""Hot reload: a new policy version reaches every gateway process without a restart.

Two real server processes share one store (PostgreSQL, or an SQLite data directory);
a rule changes through one process's policy API and the other must serve under the new
version within a second — and an API key issued or revoked on one is accepted or
refused by the other within a second. In process: a request keeps the snapshot it
started with (governance block and audit entry name it), a revoked key stops working
without a new version, a malformed version never replaces the one in force, and the
PostgreSQL listener comes back after its connection is killed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.datastructures import Headers
from litestar.testing import TestClient
from sqlalchemy import insert, select, update
from structlog.testing import capture_logs

from audit.schema import audit_events
from gateway.access.authentication import hash_api_key
from gateway.app import WardgateApp
from gateway.compliance.request_audit import RequestAudit
from gateway.customers.read import read_one
from gateway.db.engine import create_database
from gateway.db.schema import api_keys, policy_versions
from gateway.governance.call import begin_call
from gateway.logging import configure_logging
from gateway.policy.history import load_policy_version
from gateway.policy.reload import LISTENER_NAME, PolicyReloader, listen_dsn
from gateway.policy.store import load_latest_policy, save_policy_version
from gateway.settings import Settings, settings_from_env
from gateway.state import open_gateway
from tests.helpers.cli import wardgate
from tests.helpers.propagation import (
    RuleToggle,
    first_seen,
    key_travels,
    within_deadline,
)
from tests.helpers.reload import (
    CLEAR_PHONE,
    customer_id,
    keys_of,
    postgres_store,
    serving_version,
    sqlite_store,
    with_rule,
)
from tests.helpers.servers import serving

SUPPORT = ("support-desk", "customer_service")


async def _save_version(settings: Settings, rule: list[str]) -> tuple[int, float]:
    db = create_database(settings)
    try:
        async with db.writer.begin() as conn:
            # Version 1 plus the rule (whatever else the store holds: see the malformed test).
            first = await load_policy_version(conn, 1)
            assert first is not None
            document = with_rule(first, rule)
            version = await save_policy_version(conn, document, author="test", comment="phone")
        return version, time.monotonic()  # the transaction has committed
    finally:
        await db.dispose()


def save_version(settings: Settings, rule: list[str] = CLEAR_PHONE) -> tuple[int, float]:
    """A new version with `rule` added, committed; returns it and the time of commit."""
    return asyncio.run(_save_version(settings, rule))


def support_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys_of(settings)['support-desk']}", "X-Purpose": SUPPORT[1]}


def admin_headers(settings: Settings) -> dict[str, str]:
    key = keys_of(settings)["security-admin"]
    return {"Authorization": f"Bearer {key}", "X-Purpose": "policy_admin"}


# --- two server processes on one store (issue 7's done-when) -----------------------------


def run_two_processes(settings: Settings, tmp_path: Path) -> None:
    customer = customer_id(settings)
    headers = support_headers(settings)
    with (
        serving(settings, 2, tmp_path, env={"WARDGATE_LOG_LEVEL": "info"}) as (a, b),
        httpx.Client(timeout=5) as client,
    ):
        for base in (a, b):
            before = client.get(f"{base}/v1/customers/{customer}", headers=headers).json()
            assert before["governance"]["policy_version"] == 1
            assert before["governance"]["fields"]["phone"] == "masked"
        # A rule changes through process A's policy API; B hears of it on its own.
        role, purpose, target, action = CLEAR_PHONE
        rule = {"role": role, "purpose": purpose, "target": target, "action": action}
        toggle = RuleToggle(client, a, admin_headers(settings), rule)
        phones: list[str] = []

        def change(attempt: int) -> float:
            version, clear, answered = toggle.apply(attempt)
            probe = serving_version(client, f"{b}/v1/customers/{customer}", headers, version)
            elapsed, read = first_seen(probe, answered, f"version {version} on B")
            assert read["governance"]["policy_version"] == version
            assert read["governance"]["fields"]["phone"] == ("clear" if clear else "masked")
            assert read["governance"]["fields"]["email"] == "masked"  # only that rule changed
            assert ("*" not in read["data"]["phone"]) is clear
            if clear:
                phones.append(read["data"]["phone"])
            return elapsed

        within_deadline("rule changed on A, in force on B", change)
        on_a = client.get(f"{a}/v1/customers/{customer}", headers=headers).json()["governance"]
        assert on_a["policy_version"] == toggle.versions[-1]

        # API keys travel too: issued by the operator on the host (a data principal's
        # key, `wardgate keys issue`), accepted by B; revoked through A, refused by B.
        def operator_issue() -> dict[str, str]:
            issued = wardgate(settings, "keys", "issue", "marketing-app")
            assert issued.exit_code == 0, issued.output
            key = issued.stdout.strip()
            return {"key": key, "key_id": hash_api_key(key)[:16]}

        key_travels(
            client,
            a,
            admin_headers(settings),
            f"{b}/v1/customers?limit=1",
            "marketing",
            operator_issue,
        )
    # Each process logged each reload with its version, and nothing of the data.
    for n in range(2):
        lines = [
            json.loads(line)
            for line in (tmp_path / f"server-{n}.log").read_text().splitlines()
            if line.startswith("{")
        ]
        reloaded = [line for line in lines if line.get("event") == "policy reloaded"]
        assert [line["policy_version"] for line in reloaded] == toggle.versions
        logged = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
        assert not any(phone in logged for phone in phones)


def test_given_two_processes_on_one_sqlite_store_then_a_new_version_reaches_both(
    tmp_path: Path,
) -> None:
    run_two_processes(sqlite_store(tmp_path), tmp_path)


@pytest.mark.postgres
def test_given_two_processes_on_one_postgres_then_a_new_version_reaches_both(
    tmp_path: Path, postgres_url_factory: Callable[[], str]
) -> None:
    run_two_processes(postgres_store(tmp_path, postgres_url_factory), tmp_path)


# --- in process ---------------------------------------------------------------------------


def test_given_request_in_flight_then_it_finishes_under_the_version_it_started_with(
    tmp_path: Path,
) -> None:
    """The governance block and the audit entry name the request's own version."""
    settings = sqlite_store(tmp_path)
    customer = customer_id(settings)
    headers = Headers(support_headers(settings))

    async def run() -> tuple[dict[str, Any], dict[str, Any], int | None, int]:
        state = await open_gateway(settings)
        state.appender.start()
        try:
            audit = RequestAudit(request_id="in-flight", method="GET", path="/v1/customers/x")
            call = begin_call(state, headers, audit, action="customers.read", entity="customers")
            async with state.db.writer.begin() as conn:
                _, document = await load_latest_policy(conn)
                await save_policy_version(
                    conn, with_rule(document, CLEAR_PHONE), author="test", comment=""
                )
            await state.reload_policy()
            result = await read_one(call, "customers", customer)
            fresh = begin_call(
                state, headers, RequestAudit("next", "GET", "/"), action="read", entity="customers"
            )
            async with state.db.reader.connect() as conn:
                stored = (
                    await conn.execute(
                        select(audit_events.c.policy_version).where(
                            audit_events.c.request_id == "in-flight"
                        )
                    )
                ).scalar()
            return result.governance, fresh.governance("customers"), stored, state.snapshot.version
        finally:
            await state.warmer.settle()
            await state.appender.close()
            await state.db.dispose()

    old, new, audited_version, in_force = asyncio.run(run())
    assert in_force == 2
    assert old["policy_version"] == 1
    assert old["fields"]["phone"] == "masked"
    assert audited_version == 1
    assert new["policy_version"] == 2
    assert new["fields"]["phone"] == "clear"


@contextmanager
def app_client(settings: Settings) -> Iterator[tuple[TestClient[Any], WardgateApp]]:
    app = WardgateApp(settings)
    with TestClient(app=app) as client:  # type: ignore[arg-type]
        yield client, app


@pytest.fixture
def info_logs(logging_restored: None) -> None:
    """Info lines reach capture_logs whatever level an earlier test configured."""
    configure_logging("info")


def wait_until(predicate: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_given_key_revoked_in_the_store_then_it_stops_working_without_a_new_version(
    tmp_path: Path,
) -> None:
    settings = sqlite_store(tmp_path)
    customer = customer_id(settings)
    headers = support_headers(settings)
    with app_client(settings) as (client, app):
        assert client.get(f"/v1/customers/{customer}", headers=headers).status_code == 200
        engine = app.litestar.state.gateway.snapshot.engine

        async def revoke() -> None:
            db = create_database(settings)
            try:
                async with db.writer.begin() as conn:
                    await conn.execute(
                        update(api_keys)
                        .where(api_keys.c.principal_id == "support-desk")
                        .values(revoked_at="2026-01-01T00:00:00+00:00")
                    )
            finally:
                await db.dispose()

        asyncio.run(revoke())
        wait_until(
            lambda: client.get(f"/v1/customers/{customer}", headers=headers).status_code == 401
        )
        snapshot = app.litestar.state.gateway.snapshot
        assert snapshot.version == 1
        assert snapshot.engine is engine  # keys changed, policy did not: nothing recompiled


@pytest.mark.usefixtures("info_logs")
def test_given_malformed_version_then_the_one_in_force_stays_until_a_good_one(
    tmp_path: Path,
) -> None:
    settings = sqlite_store(tmp_path)
    customer = customer_id(settings)
    headers = support_headers(settings)

    async def insert_broken() -> None:
        db = create_database(settings)
        try:
            async with db.writer.begin() as conn:
                await conn.execute(
                    insert(policy_versions).values(
                        version=2,
                        created_at="2026-01-01T00:00:00+00:00",
                        author="test",
                        comment="broken",
                        document={"rules": "not a list of rules", "roles": []},
                    )
                )
        finally:
            await db.dispose()

    with capture_logs() as logs, app_client(settings) as (client, app):
        asyncio.run(insert_broken())
        wait_until(lambda: any(e["event"] == "policy check failed" for e in logs))
        response = client.get(f"/v1/customers/{customer}", headers=headers)
        assert response.status_code == 200
        assert response.json()["governance"]["policy_version"] == 1
        version, _ = save_version(settings)
        assert version == 3
        wait_until(lambda: app.litestar.state.gateway.snapshot.version == 3)
        wait_until(lambda: any(e["event"] == "policy check recovered" for e in logs))
        response = client.get(f"/v1/customers/{customer}", headers=headers)
        assert response.json()["governance"]["fields"]["phone"] == "clear"
    failures = [e for e in logs if e["event"] == "policy check failed"]
    assert len(failures) == 1, "a failure streak is logged once"
    assert any(e["event"] == "policy reloaded" and e["policy_version"] == 3 for e in logs)


@pytest.mark.postgres
@pytest.mark.usefixtures("info_logs")
def test_given_listener_connection_killed_then_it_reconnects_and_hears_the_next_change(
    tmp_path: Path, postgres_url_factory: Callable[[], str]
) -> None:
    # A long safety poll: only the listener can bring the change within the deadline.
    settings = postgres_store(tmp_path, postgres_url_factory).with_overrides(
        policy_poll_seconds=30.0
    )
    assert settings.database_url is not None
    customer = customer_id(settings)
    headers = support_headers(settings)

    async def kill_listener() -> int:
        conn = await asyncpg.connect(listen_dsn(settings.async_database_url))
        try:
            killed = await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = current_database()",
                LISTENER_NAME,
            )
            return len(killed)
        finally:
            await conn.close()

    with capture_logs() as logs, app_client(settings) as (client, app):
        reloader: PolicyReloader = app.litestar.state.policy_reloader
        wait_until(lambda: reloader.connections == 1 and reloader.listening.is_set())
        assert asyncio.run(kill_listener()) == 1
        wait_until(lambda: reloader.connections == 2 and reloader.listening.is_set())

        def change(_attempt: int) -> float:
            version, committed = save_version(settings)

            def in_force() -> bool | None:
                return app.litestar.state.gateway.snapshot.version >= version or None

            elapsed, _ = first_seen(in_force, committed, f"version {version} in force")
            response = client.get(f"/v1/customers/{customer}", headers=headers)
            assert response.json()["governance"]["policy_version"] == version
            assert response.json()["governance"]["fields"]["phone"] == "clear"
            return elapsed

        within_deadline("version saved, in force through the new listener", change)
        assert reloader.connections == 2
    assert any(e["event"] == "policy listener connection lost" for e in logs)


def test_given_poll_setting_then_it_is_read_and_defaults_per_backend() -> None:
    assert settings_from_env({}).policy_poll_interval == 0.25
    postgres = settings_from_env({"WARDGATE_DATABASE_URL": "postgresql://db/wardgate"})
    assert postgres.policy_poll_interval == 5.0
    tuned = settings_from_env({"WARDGATE_POLICY_POLL_SECONDS": "0.5"})
    assert tuned.policy_poll_interval == 0.5
    with pytest.raises(ValueError, match="positive number of seconds"):
        settings_from_env({"WARDGATE_POLICY_POLL_SECONDS": "0"})
