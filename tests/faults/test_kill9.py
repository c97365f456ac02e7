"""kill -9 during a burst of concurrent writes: every acknowledged write is present and
readable after a restart, every stored write has its audit entry, the chain verifies.

The gateway commits a change and its audit entry in one transaction before answering,
so a write the client saw acknowledged (201) must survive the process dying at any
instant, and no write may be stored without its entry. Writes in flight at the kill
may or may not be stored; either way they obey the same two rules.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from gateway.db.init_store import init_store
from gateway.settings import Settings
from tests.helpers.cli import wardgate
from tests.helpers.customers import valid_body
from tests.helpers.servers import Server, start_server
from tests.helpers.store import Store

pytestmark = pytest.mark.fault

WRITERS = 6
BURST_SECONDS = 2.0


def _new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    settings = Settings(data_dir=tmp_path / "data")
    if request.param == "postgres":
        make = request.getfixturevalue("postgres_url_factory")
        settings = settings.with_overrides(database_url=make(), keystore_url=make())
    asyncio.run(init_store(settings, demo=True, customers=5))
    return Store(backend=request.param, settings=settings)


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return _new_store(request, tmp_path)


class WriteBurst:
    """Creates from several threads until the server dies; acknowledged ids are kept."""

    def __init__(self, server: Server, key: str) -> None:
        self._server = server
        self._headers = {"Authorization": f"Bearer {key}", "X-Purpose": "customer_service"}
        self.acknowledged: list[str] = []
        self.other: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(WRITERS)]

    def _run(self) -> None:
        with httpx.Client(base_url=self._server.base, headers=self._headers, timeout=10) as c:
            while not self._stop.is_set():
                try:
                    response = c.post("/v1/customers", json=valid_body())
                except httpx.HTTPError:
                    if self._server.process.poll() is not None:
                        return  # the server is gone: this write is in doubt, not acked
                    continue
                with self._lock:
                    if response.status_code == 201:
                        self.acknowledged.append(response.json()["data"]["id"])
                    else:
                        self.other.append(response.status_code)

    def __enter__(self) -> WriteBurst:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=20)


def test_given_kill_9_during_write_burst_then_acknowledged_writes_survive_audited(
    store: Store, tmp_path: Path
) -> None:
    before = {row[0] for row in store.sql("SELECT id FROM customers")}
    key = store.keys["support-desk"]
    server = start_server(store.settings, tmp_path / "first.log")
    with WriteBurst(server, key) as burst:
        time.sleep(BURST_SECONDS)
        server.kill()
    assert burst.other == [], burst.other
    assert len(burst.acknowledged) > 5, "the burst acknowledged too few writes to judge"

    restarted = start_server(store.settings, tmp_path / "second.log")
    try:
        headers = {"Authorization": f"Bearer {key}", "X-Purpose": "customer_service"}
        with httpx.Client(base_url=restarted.base, headers=headers, timeout=10) as client:
            for customer_id in burst.acknowledged:
                response = client.get(f"/v1/customers/{customer_id}")
                assert response.status_code == 200, (customer_id, response.text)
                assert response.json()["data"]["id"] == customer_id
    finally:
        restarted.stop()

    stored = {row[0] for row in store.sql("SELECT id FROM customers")} - before
    assert set(burst.acknowledged) <= stored
    created = store.sql(
        "SELECT record_ids FROM audit_events WHERE action = 'customers.create' AND status = 201"
    )
    audited: set[str] = set()
    for (record_ids,) in created:
        audited.update(record_ids if isinstance(record_ids, list) else json.loads(record_ids))
    assert stored <= audited, f"stored without an audit entry: {sorted(stored - audited)[:3]}"
    assert audited - before <= stored, "an audit entry names a write that is not stored"
    verified = wardgate(store.settings, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    print(
        f"{store.backend}: acknowledged={len(burst.acknowledged)} stored={len(stored)} "
        f"in doubt={len(stored) - len(burst.acknowledged)}"
    )
