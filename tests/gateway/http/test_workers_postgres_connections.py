"""`serve --workers 2` on PostgreSQL stays within the connections the README promises:
two workers under a mixed load (governed reads and pages, audit queries, writes, more
clients than any pool) never hold more than twice `PostgresConnections` at once, on the
store's database or on the key store's."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from gateway.db.engine import PostgresConnections
from tests.helpers.customers import valid_body
from tests.helpers.postgres import PG_ADMIN_URL
from tests.helpers.reload import customer_id, keys_of, postgres_store
from tests.helpers.servers import serving

POOL_SIZE = 2  # small, so a load of CLIENTS overruns every pool
CLIENTS = 24
LOAD_SECONDS = 4.0
SAMPLE_SECONDS = 0.02


class _Peaks:
    """The most backends seen at once on each database, sampled from pg_stat_activity
    on a connection of its own (to the admin database, which it does not count)."""

    def __init__(self, databases: list[str]) -> None:
        self._databases = databases
        self.peaks = dict.fromkeys(databases, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._sample()))

    async def _sample(self) -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            while not self._stop.is_set():
                rows = await conn.fetch(
                    "SELECT datname, count(*) FROM pg_stat_activity"
                    " WHERE datname = ANY($1::text[]) GROUP BY datname",
                    self._databases,
                )
                for name, count in rows:
                    self.peaks[name] = max(self.peaks[name], count)
                await asyncio.sleep(SAMPLE_SECONDS)
        finally:
            await conn.close()

    def __enter__(self) -> _Peaks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


async def _mixed_load(base: str, keys: dict[str, str], customer: str) -> list[int]:
    support = {"Authorization": f"Bearer {keys['support-desk']}", "X-Purpose": "customer_service"}
    audit = {
        "Authorization": f"Bearer {keys['compliance-officer']}",
        "X-Purpose": "compliance_audit",
    }
    requests: list[tuple[str, str, dict[str, str]]] = [
        ("GET", f"/v1/customers/{customer}", support),
        ("GET", "/v1/customers?limit=20", support),
        ("GET", "/v1/audit/events?limit=20", audit),
        ("POST", "/v1/customers", support),
    ]
    statuses: list[int] = []
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        deadline = asyncio.get_running_loop().time() + LOAD_SECONDS

        async def one_client(n: int) -> None:
            while asyncio.get_running_loop().time() < deadline:
                method, path, headers = requests[n % len(requests)]
                body = valid_body() if method == "POST" else None
                response = await client.request(method, path, headers=headers, json=body)
                statuses.append(response.status_code)
                n += 1

        await asyncio.gather(*(one_client(n) for n in range(CLIENTS)))
    return statuses


def _database(url: str | None) -> str:
    assert url is not None
    return urlsplit(url).path.lstrip("/")


@pytest.mark.postgres
def test_given_two_workers_under_load_then_connections_stay_within_the_documented_bound(
    tmp_path: Path, postgres_url_factory: Callable[[], str]
) -> None:
    settings = postgres_store(tmp_path, postgres_url_factory)
    budget = PostgresConnections.of(settings.with_overrides(db_pool_size=POOL_SIZE))
    store_db, keys_db = _database(settings.database_url), _database(settings.keystore_url)
    env = {"WARDGATE_DB_POOL_SIZE": str(POOL_SIZE)}
    customer = customer_id(settings)
    with (
        serving(settings, 1, tmp_path, env=env, workers=2) as (base,),
        _Peaks([store_db, keys_db]) as peaks,
    ):
        statuses = asyncio.run(_mixed_load(base, keys_of(settings), customer))
    assert statuses, "no request was made"
    assert all(200 <= status < 300 for status in statuses), sorted(set(statuses))
    # Both workers served: each holds its policy listener, and reads and writes ran.
    assert peaks.peaks[store_db] > 2 * budget.policy_listener
    assert peaks.peaks[store_db] <= 2 * budget.store, peaks.peaks
    assert peaks.peaks[keys_db] <= 2 * budget.keystore, peaks.peaks
