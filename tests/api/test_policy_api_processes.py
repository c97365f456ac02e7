"""Changes made through the policy API of one gateway process reach another at once:
a rule (new version), and a key issue and revocation (no version) — SQLite and
PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from gateway.settings import Settings
from tests.gateway.test_audit_concurrency import serving
from tests.gateway.test_policy_reload import (
    DEADLINE,
    customer_id,
    keys_of,
    postgres_store,
    sqlite_store,
)


def wait_for_status(
    client: httpx.Client, url: str, headers: dict[str, str], status: int, since: float
) -> float:
    while True:
        if client.get(url, headers=headers).status_code == status:
            return time.monotonic() - since
        assert time.monotonic() - since < 10, f"{url} never answered {status}"
        time.sleep(0.02)


def run(settings: Settings, tmp_path: Path) -> None:
    keys = keys_of(settings)
    admin = {"Authorization": f"Bearer {keys['security-admin']}", "X-Purpose": "policy_admin"}
    desk = {"Authorization": f"Bearer {keys['support-desk']}", "X-Purpose": "customer_service"}
    customer = customer_id(settings)
    with serving(settings, 2, tmp_path) as (a, b), httpx.Client(timeout=5) as client:
        read = f"{b}/v1/customers/{customer}"
        assert client.get(read, headers=desk).json()["governance"]["fields"]["phone"] == "masked"
        rule = {
            "role": "customer_service",
            "purpose": "customer_service",
            "target": "contact.phone",
            "action": "*",
            "effect": "deny",
        }

        changed = client.post(f"{a}/v1/policy/rules", headers=admin, json=rule)
        assert changed.status_code == 201, changed.text
        started = time.monotonic()
        while client.get(read, headers=desk).json()["governance"]["fields"]["phone"] != (
            "withheld:denied"
        ):
            assert time.monotonic() - started < 10, "process B never applied the rule"
            time.sleep(0.02)
        assert time.monotonic() - started < DEADLINE

        # A key the policy API may issue: another administrator's (no customer data).
        second = {"id": "second-admin", "roles": ["security_admin"], "purposes": ["policy_admin"]}
        created = client.post(f"{a}/v1/policy/principals", headers=admin, json=second)
        assert created.status_code == 201, created.text
        issued = client.post(f"{a}/v1/policy/principals/second-admin/keys", headers=admin)
        assert issued.status_code == 201, issued.text
        new_key = {**admin, "Authorization": f"Bearer {issued.json()['key']}"}
        versions = f"{b}/v1/policy/versions"
        assert wait_for_status(client, versions, new_key, 200, time.monotonic()) < DEADLINE
        revoked = client.delete(f"{a}/v1/policy/keys/{issued.json()['key_id']}", headers=admin)
        assert revoked.status_code == 200, revoked.text
        assert wait_for_status(client, versions, new_key, 401, time.monotonic()) < DEADLINE


def test_given_two_processes_on_sqlite_then_api_changes_and_revocations_reach_both(
    tmp_path: Path,
) -> None:
    run(sqlite_store(tmp_path), tmp_path)


@pytest.mark.postgres
def test_given_two_processes_on_postgres_then_api_changes_and_revocations_reach_both(
    tmp_path: Path, postgres_url_factory: Callable[[], str]
) -> None:
    run(postgres_store(tmp_path, postgres_url_factory), tmp_path)
