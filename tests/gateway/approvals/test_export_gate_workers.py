"""The export threshold across the two worker processes of one `serve --workers 2`, on
SQLite and PostgreSQL: two clients pinned to different workers read concurrently past
the threshold; one counter, never more released than it allows, one entry per read
(the refusal's for each refused one), and the chain verifies."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.settings import Settings
from tests.helpers.cli import wardgate
from tests.helpers.migrations import execute
from tests.helpers.reload import customer_id, keys_of, postgres_store, sqlite_store
from tests.helpers.servers import serving
from tests.helpers.workers import clients_on_two_workers, serving_worker

THRESHOLD = 4
READS_PER_WORKER = 6
PURPOSE = "customer_service"
KEEPALIVE = {"WARDGATE_HTTP_KEEPALIVE_SECONDS": "120"}


def with_threshold(settings: Settings, directory: Path) -> None:
    """A new policy version with THRESHOLD on PURPOSE, applied before the gateway
    starts: both workers serve it from their first request."""
    exported = wardgate(settings, "policy", "export", str(directory))
    assert exported.exit_code == 0, exported.output
    path = directory / "purposes.yaml"
    document = yaml.safe_load(path.read_text())
    purposes = document.get("purposes", document)
    purposes[PURPOSE]["export_threshold"] = THRESHOLD
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    applied = wardgate(settings, "policy", "apply", str(directory), "--comment", "threshold")
    assert applied.exit_code == 0, applied.output


def run_two_workers(settings: Settings, tmp_path: Path) -> None:
    customer = customer_id(settings)
    keys = keys_of(settings)
    support = {"Authorization": f"Bearer {keys['support-desk']}", "X-Purpose": PURPOSE}
    compliance = {
        "Authorization": f"Bearer {keys['compliance-officer']}",
        "X-Purpose": "compliance_audit",
    }
    with_threshold(settings, tmp_path / "policy")
    with (
        # Long keep-alive: a pinned client idle while the other reads must not
        # reconnect to whichever worker the kernel picks.
        serving(settings, 1, tmp_path, env=KEEPALIVE, workers=2) as (base,),
        clients_on_two_workers(base) as (on_a, on_b),
    ):
        pinned = (serving_worker(on_a, base), serving_worker(on_b, base))
        url = f"{base}/v1/customers/{customer}"
        statuses: dict[str, int] = {}
        released: dict[str, int] = {}
        lock = threading.Lock()

        def reads(client: httpx.Client, name: str) -> None:
            for n in range(READS_PER_WORKER):
                request_id = f"{name}-{n}"
                response = client.get(url, headers=support | {"X-Request-Id": request_id})
                with lock:
                    statuses[request_id] = response.status_code
                    if response.status_code == 200:
                        released[request_id] = 1 if response.json()["data"] else 0
                    else:
                        assert response.headers["content-type"].startswith(
                            "application/problem+json"
                        )
                        body = response.json()
                        assert body["reason"] == "approval_required", body
                        assert "data" not in body
                        assert customer not in response.text

        threads = [
            threading.Thread(target=reads, args=(client, name))
            for client, name in ((on_a, "a"), (on_b, "b"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        # Both reads ran on the workers they were pinned to (checked again on leaving).
        assert (serving_worker(on_a, base), serving_worker(on_b, base)) == pinned
        verified = on_a.get(f"{base}/v1/audit/verify", headers=compliance)
        assert verified.status_code == 200, verified.text
        assert verified.json()["data"]["ok"] is True
    # The store, read once the workers are stopped.
    assert set(statuses.values()) <= {200, 403}
    assert sum(released.values()) == THRESHOLD, statuses
    rows = asyncio.run(execute(settings, "SELECT records FROM read_counters"))
    assert [int(row[0]) for row in rows] == [THRESHOLD]
    logged = asyncio.run(
        execute(
            settings,
            "SELECT request_id, status, reason FROM audit_events "
            "WHERE request_id LIKE 'a-%' OR request_id LIKE 'b-%'",
        )
    )
    by_request: dict[str, list[tuple[int, str | None]]] = {}
    for request_id, status, reason in logged:
        by_request.setdefault(request_id, []).append((int(status), reason))
    assert set(by_request) == set(statuses)
    for request_id, status in statuses.items():
        expected = (200, None) if status == 200 else (403, "approval_required")
        assert by_request[request_id] == [expected], request_id


def test_given_two_workers_on_sqlite_then_one_threshold_holds_across_them(
    tmp_path: Path,
) -> None:
    run_two_workers(sqlite_store(tmp_path), tmp_path)


@pytest.mark.postgres
def test_given_two_workers_on_postgres_then_one_threshold_holds_across_them(
    tmp_path: Path, postgres_url_factory: Callable[[], str]
) -> None:
    run_two_workers(postgres_store(tmp_path, postgres_url_factory), tmp_path)
