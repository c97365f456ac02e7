"""Policy changes and key revocations reach every worker of one `serve --workers 2`.

The workers share one listening socket, so which worker answers a request is the
kernel's choice. To test one worker against the other, each of two clients keeps one
keep-alive connection, and the test finds from /proc which worker process holds the
server side of it, opening connections until the two clients sit on different workers.
A rule changes through worker A and worker B must serve under the new version within
a second; a key issued on the host is accepted by B, revoked through A, and refused by B
within a second
(issue 16). At the end both connections are checked to be the ones that were pinned:
a probe that had moved to another worker would prove nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.access.authentication import hash_api_key
from gateway.settings import Settings
from tests.helpers.cli import wardgate
from tests.helpers.propagation import (
    RuleToggle,
    answering,
    first_seen,
    within_deadline,
)
from tests.helpers.reload import (
    CLEAR_PHONE,
    customer_id,
    keys_of,
    postgres_store,
    serving_version,
    sqlite_store,
)
from tests.helpers.servers import serving
from tests.helpers.workers import clients_on_two_workers, serving_worker


def run_across_workers(settings_of: Callable[[Path], Settings], tmp_path: Path) -> None:
    settings = settings_of(tmp_path)
    customer = customer_id(settings)
    keys = keys_of(settings)
    support = {"Authorization": f"Bearer {keys['support-desk']}", "X-Purpose": "customer_service"}
    admin = {"Authorization": f"Bearer {keys['security-admin']}", "X-Purpose": "policy_admin"}
    with (
        serving(settings, 1, tmp_path, workers=2) as (base,),
        clients_on_two_workers(base) as (on_a, on_b),
    ):
        b_before = serving_worker(on_b, base)
        url = f"{base}/v1/customers/{customer}"
        for client in (on_a, on_b):
            assert client.get(url, headers=support).json()["governance"]["policy_version"] == 1

        role, purpose, target, action = CLEAR_PHONE
        rule = {"role": role, "purpose": purpose, "target": target, "action": action}
        toggle = RuleToggle(on_a, base, admin, rule)

        def change(attempt: int) -> float:
            version, clear, answered = toggle.apply(attempt)
            elapsed, read = first_seen(
                serving_version(on_b, url, support, version), answered, f"version {version} on B"
            )
            assert read["governance"]["fields"]["phone"] == ("clear" if clear else "masked")
            return elapsed

        within_deadline("rule changed through worker A, in force on worker B", change)

        marketing_url = f"{base}/v1/customers?limit=1"

        def revoke(_attempt: int) -> float:
            # A data principal's key comes from the operator on the host (separation of
            # duties: the security admin cannot mint it); revoked through worker A.
            issued = wardgate(settings, "keys", "issue", "marketing-app")
            assert issued.exit_code == 0, issued.output
            key = {"key": issued.stdout.strip()}
            key["key_id"] = hash_api_key(key["key"])[:16]
            headers = {"Authorization": f"Bearer {key['key']}", "X-Purpose": "marketing"}
            first_seen(answering(on_b, marketing_url, headers, 200), 0.0, "new key on B")
            response = on_a.delete(f"{base}/v1/policy/keys/{key['key_id']}", headers=admin)
            revoked_at = time.monotonic()  # the revocation has committed
            assert response.status_code == 200, response.text
            return first_seen(
                answering(on_b, marketing_url, headers, 401), revoked_at, "revoked key on B"
            )[0]

        within_deadline("key revoked through worker A, refused by worker B", revoke)
        assert serving_worker(on_b, base) == b_before, "client B changed worker"


def test_given_two_workers_on_sqlite_then_changes_through_one_reach_the_other(
    tmp_path: Path,
) -> None:
    run_across_workers(sqlite_store, tmp_path)


@pytest.mark.postgres
def test_given_two_workers_on_postgres_then_changes_through_one_reach_the_other(
    tmp_path: Path, postgres_url_factory: Callable[[], str]
) -> None:
    run_across_workers(lambda path: postgres_store(path, postgres_url_factory), tmp_path)
