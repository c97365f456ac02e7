"""Changes made through the policy API of one gateway process reach another at once:
a rule (new version), and a key issue and revocation (no version) — SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from gateway.settings import Settings
from tests.helpers.propagation import (
    RuleToggle,
    api_issuer,
    first_seen,
    key_travels,
    within_deadline,
)
from tests.helpers.reload import (
    customer_id,
    keys_of,
    postgres_store,
    serving_version,
    sqlite_store,
)
from tests.helpers.servers import serving


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
        toggle = RuleToggle(client, a, admin, rule)

        def change(attempt: int) -> float:
            version, denied, answered = toggle.apply(attempt)
            probe = serving_version(client, read, desk, version)
            elapsed, body = first_seen(probe, answered, f"version {version} on B")
            phone = body["governance"]["fields"]["phone"]
            assert phone == ("withheld:denied" if denied else "masked")
            assert ("phone" in body["data"]) is not denied
            return elapsed

        within_deadline("deny rule changed on A, in force on B", change)
        # A key the policy API may issue: another administrator's (no customer data).
        second = {"id": "second-admin", "roles": ["security_admin"], "purposes": ["policy_admin"]}
        created = client.post(f"{a}/v1/policy/principals", headers=admin, json=second)
        assert created.status_code == 201, created.text
        key_travels(
            client,
            a,
            admin,
            f"{b}/v1/policy/versions",
            "policy_admin",
            api_issuer(client, a, admin, "second-admin"),
        )


def test_given_two_processes_on_sqlite_then_api_changes_and_revocations_reach_both(
    tmp_path: Path,
) -> None:
    run(sqlite_store(tmp_path), tmp_path)


@pytest.mark.postgres
def test_given_two_processes_on_postgres_then_api_changes_and_revocations_reach_both(
    tmp_path: Path, postgres_url_factory: Callable[[], str]
) -> None:
    run(postgres_store(tmp_path, postgres_url_factory), tmp_path)
