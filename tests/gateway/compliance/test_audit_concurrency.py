"""Concurrent load against real gateways on loopback: one audit entry per request, one log.

Clients fire mixed /v1 requests (allowed reads, a denied purpose, 401s, 404s from a
handler and from the router, creates) from several threads, at one server, split
across two server processes sharing one store (an SQLite data directory, or one
PostgreSQL), or at one `serve --workers 2` whose workers share the port and the store.
Afterwards the log must hold exactly one entry per request — matched by
request id and status — with sequence numbers 0..n-1, no gaps, no duplicates, and one
chain that every signed checkpoint (issued by both processes while under load) agrees
with. Load goes to 127.0.0.1 only and is bounded in requests and time.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from audit.schema import audit_checkpoints, audit_events
from audit.store import read_tree
from audit.verify import LogVerifier, VerifyReport
from gateway.compliance.checkpoints import CheckpointIssuer, all_checkpoints, log_signer
from gateway.compliance.log_reader import snapshot, stream_entries, verify_store
from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.db.opening import open_keystore
from gateway.settings import Settings
from tests.helpers.customers import valid_body
from tests.helpers.servers import CHECKPOINT_EVERY, serving

CUSTOMERS = 30
THREADS = 4
REQUESTS_PER_THREAD = 100
MISSING = "cus_00000000000000000000000000"


@dataclass(frozen=True)
class Sent:
    request_id: str
    status: int
    expected: int


class Load:
    """Mixed /v1 requests from several threads; every one is recorded with its status."""

    def __init__(
        self,
        bases: list[str],
        keys: dict[str, str],
        customer_ids: list[str],
        analytics_ids: list[str],
    ) -> None:
        self.bases = bases
        self.keys = keys
        self.ids = customer_ids
        self.analytics_ids = analytics_ids
        self.sent: list[Sent] = []
        self.errors: list[str] = []
        self.unaudited = 0
        self._lock = threading.Lock()

    def _headers(self, principal: str | None, purpose: str, request_id: str) -> dict[str, str]:
        headers = {"X-Purpose": purpose, "X-Request-Id": request_id}
        if principal is not None:
            headers["Authorization"] = f"Bearer {self.keys[principal]}"
        return headers

    def _one(self, client: httpx.Client, base: str, n: int, request_id: str) -> tuple[int, int]:
        customer = self.ids[n % len(self.ids)]
        kind = n % 8
        support = self._headers("support-desk", "customer_service", request_id)
        if kind == 0:
            response = client.get(f"{base}/v1/customers/{customer}", headers=support)
            return response.status_code, 200
        if kind == 1:
            headers = self._headers("marketing-app", "marketing", request_id)
            response = client.get(f"{base}/v1/customers", params={"limit": 5}, headers=headers)
            return response.status_code, 200
        if kind == 2:  # a purpose this principal does not have
            headers = self._headers("support-desk", "marketing", request_id)
            response = client.get(f"{base}/v1/customers/{customer}", headers=headers)
            return response.status_code, 403
        if kind == 3:
            response = client.get(f"{base}/v1/customers/{MISSING}", headers=support)
            return response.status_code, 404
        if kind == 4:  # unknown route: the router's 404, still audited
            response = client.get(f"{base}/v1/no-such-thing", headers=support)
            return response.status_code, 404
        if kind == 5:  # analytics needs the customer's consent (PIPL Art. 13)
            headers = self._headers("analytics-job", "analytics", request_id)
            consented = self.analytics_ids[n % len(self.analytics_ids)]
            response = client.get(f"{base}/v1/customers/{consented}/orders", headers=headers)
            return response.status_code, 200
        if kind == 6:
            response = client.post(f"{base}/v1/customers", json=valid_body(), headers=support)
            return response.status_code, 201
        headers = self._headers(None, "customer_service", request_id)  # no API key
        response = client.get(f"{base}/v1/customers/{customer}", headers=headers)
        return response.status_code, 401

    def _worker(self, thread: int, deadline: float) -> None:
        with httpx.Client(timeout=10) as client:
            for n in range(REQUESTS_PER_THREAD):
                if time.monotonic() > deadline:
                    with self._lock:
                        self.errors.append(f"thread {thread}: out of time at request {n}")
                    return
                base = self.bases[(thread + n) % len(self.bases)]
                request_id = f"load-{thread}-{n:03d}"
                try:
                    status, expected = self._one(client, base, thread * 7 + n, request_id)
                    if n % 10 == 0:  # outside /v1: never audited
                        client.get(f"{base}/healthz").raise_for_status()
                        with self._lock:
                            self.unaudited += 1
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.errors.append(f"{request_id}: {type(exc).__name__}: {exc}")
                    continue
                with self._lock:
                    self.sent.append(Sent(request_id, status, expected))

    def run(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self._worker, args=(t, deadline), name=f"load-{t}")
            for t in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 15)
        assert not any(thread.is_alive() for thread in threads), "a client thread hung"


@dataclass(frozen=True)
class LogState:
    seqs: list[int]
    request_ids: list[str]
    status_by_request: dict[str, int]
    tree_size: int
    checkpoints: int
    chain: VerifyReport


async def _read_log(settings: Settings) -> LogState:
    db = create_database(settings)
    try:
        async with db.reader.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        audit_events.c.seq, audit_events.c.request_id, audit_events.c.status
                    ).order_by(audit_events.c.seq)
                )
            ).all()
            tree = await read_tree(conn)
            stored_checkpoints = (
                await conn.execute(select(func.count()).select_from(audit_checkpoints))
            ).scalar_one()
        _, system_keys = await open_keystore(settings, db)
        verifier = log_signer(system_keys.audit_signing).verifier()
        # The production verifier over every stored checkpoint, before a new one is issued.
        async with snapshot(db) as conn:
            log = LogVerifier(await all_checkpoints(conn, verifier))
            async for seq, canonical, stored in stream_entries(conn):
                if not log.feed(seq, canonical, stored):
                    break
        return LogState(
            seqs=[row.seq for row in rows],
            request_ids=[row.request_id for row in rows],
            status_by_request={row.request_id: row.status for row in rows},
            tree_size=tree.size,
            checkpoints=int(stored_checkpoints),
            chain=log.finish(),
        )
    finally:
        await db.dispose()


async def _checkpoint_and_verify(settings: Settings) -> tuple[VerifyReport, int]:
    db = create_database(settings)
    try:
        _, system_keys = await open_keystore(settings, db)
        signer = log_signer(system_keys.audit_signing)
        checkpoint = await CheckpointIssuer(db.writer, signer).issue()
        report, _ = await verify_store(db, signer.verifier())
        return report, checkpoint.tree_size
    finally:
        await db.dispose()


async def _customer_ids(settings: Settings, consented_to: str | None = None) -> list[str]:
    db = create_database(settings)
    query = "SELECT id FROM customers ORDER BY id"
    if consented_to is not None:  # the demo seeds grants only, never withdrawals
        query = (
            "SELECT DISTINCT customer_id FROM consents WHERE kind = 'grant' "
            "AND purpose = :purpose ORDER BY customer_id"
        )
    try:
        async with db.reader.connect() as conn:
            rows = await conn.execute(text(query), {"purpose": consented_to})
            return [str(row[0]) for row in rows]
    finally:
        await db.dispose()


def seeded(settings: Settings) -> Settings:
    asyncio.run(init_store(settings, demo=True, customers=CUSTOMERS))
    return settings


def run_load_and_check(settings: Settings, processes: int, logs: Path, workers: int = 1) -> None:
    before = asyncio.run(_read_log(settings))
    assert before.seqs == list(range(len(before.seqs)))
    ids = asyncio.run(_customer_ids(settings))
    assert len(ids) == CUSTOMERS
    keys = json.loads((settings.data_dir / "demo-keys.json").read_text())
    started = time.monotonic()
    with serving(settings, processes, logs, workers=workers) as bases:
        load = Load(bases, keys, ids, asyncio.run(_customer_ids(settings, "analytics")))
        load.run()
    elapsed = time.monotonic() - started
    assert load.errors == []
    sent = load.sent
    assert len(sent) == THREADS * REQUESTS_PER_THREAD
    assert load.unaudited > 0
    wrong = [s for s in sent if s.status != s.expected]
    assert wrong == [], f"{len(wrong)} unexpected statuses, e.g. {wrong[:3]}"

    after = asyncio.run(_read_log(settings))
    n = len(after.seqs)
    # Exactly one entry per request, and nothing else (healthz, readyz are not /v1).
    assert n - len(before.seqs) == len(sent), f"{elapsed:.1f}s"
    new_ids = after.request_ids[len(before.seqs) :]
    assert Counter(new_ids) == Counter(s.request_id for s in sent)
    assert {s.request_id: s.status for s in sent} == {
        rid: after.status_by_request[rid] for rid in new_ids
    }
    # One log: 0..n-1, no gaps or duplicates, the tree state agreeing with the rows.
    assert after.seqs == list(range(n))
    assert after.tree_size == n
    # ... and one chain: every checkpoint either process signed matches it (no fork).
    assert after.checkpoints >= len(sent) // CHECKPOINT_EVERY // 2
    assert after.chain.ok, after.chain.problem
    assert after.chain.entries == n
    assert after.chain.checkpoints_verified == after.checkpoints
    assert after.chain.latest_checkpoint == n, "shutdown signs the tail"

    report, checkpoint_size = asyncio.run(_checkpoint_and_verify(settings))
    assert checkpoint_size == n
    assert report.ok, report.problem
    assert report.entries == n
    assert report.first_bad_seq is None


def test_given_concurrent_clients_on_one_server_then_one_entry_per_request(
    tmp_path: Path,
) -> None:
    settings = seeded(Settings(data_dir=tmp_path / "data"))
    run_load_and_check(settings, processes=1, logs=tmp_path)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgres",
            id="postgres",
            marks=pytest.mark.postgres,
        ),
    ],
)
def test_given_two_server_processes_on_one_store_then_one_log_without_gaps_or_forks(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    if backend == "postgres":
        make_database = request.getfixturevalue("postgres_url_factory")
        settings = settings.with_overrides(
            database_url=make_database(), keystore_url=make_database()
        )
    run_load_and_check(seeded(settings), processes=2, logs=tmp_path)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def test_given_two_workers_of_one_server_then_one_log_without_gaps_or_forks(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """`serve --workers 2`: 400 mixed requests, one entry each, one chain; SIGTERM at the
    end stops both workers cleanly and the tail is flushed and signed."""
    settings = Settings(data_dir=tmp_path / "data")
    if backend == "postgres":
        make_database = request.getfixturevalue("postgres_url_factory")
        settings = settings.with_overrides(
            database_url=make_database(), keystore_url=make_database()
        )
    run_load_and_check(seeded(settings), processes=1, logs=tmp_path, workers=2)
