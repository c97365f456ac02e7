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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
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

PIN_ATTEMPTS = 60


def _socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server side of the loopback connection client_port → server_port."""
    local = f"0100007F:{server_port:04X}"
    remote = f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    return None


def _process_holding(inode: str) -> int | None:
    target = f"socket:[{inode}]"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if fd.readlink().name == target:
                    return int(entry.name)
        except OSError:
            continue  # another user's process, or gone meanwhile
    return None


def serving_worker(client: httpx.Client, base: str) -> tuple[int, int]:
    """(worker pid, client port) of the connection `client` holds to `base`."""
    response = client.get(f"{base}/healthz")
    assert response.status_code == 200
    client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    inode = _socket_inode(int(base.rsplit(":", 1)[1]), client_port)
    assert inode is not None, "the connection is not in /proc/net/tcp"
    pid = _process_holding(inode)
    assert pid is not None, "no process holds the server side of the connection"
    return pid, client_port


def _one_connection() -> httpx.Client:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.Client(timeout=5, limits=limits)


@contextmanager
def clients_on_two_workers(base: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two clients whose keep-alive connections are served by different workers."""
    with ExitStack() as stack:
        first = stack.enter_context(_one_connection())
        pinned = serving_worker(first, base)
        for _ in range(PIN_ATTEMPTS):
            other = stack.enter_context(_one_connection())
            if serving_worker(other, base)[0] != pinned[0]:
                yield first, other
                assert serving_worker(first, base) == pinned, "client A changed worker"
                return
        pytest.fail(f"no connection reached a second worker in {PIN_ATTEMPTS} attempts")


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
