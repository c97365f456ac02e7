"""`wardgate serve --workers 2`: the supervisor keeps its workers, and they die with it.

Real processes on loopback. The audit chain across workers is tested under load in
`tests/gateway/compliance/test_audit_concurrency.py`; here, the supervisor itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from audit.store import read_tree
from gateway.compliance.checkpoints import latest_checkpoint
from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.settings import Settings
from tests.helpers.servers import one_server, start_server, wait_workers, worker_pids

WORKERS = {"WARDGATE_WORKERS": "2"}
GENEROUS_SECONDS = 90.0  # a loaded 2-core machine forks and starts slowly


def _store(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    asyncio.run(init_store(settings, demo=True, customers=3))
    return settings


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_given_a_worker_killed_then_another_takes_its_place_and_requests_keep_being_served(
    tmp_path: Path,
) -> None:
    settings = _store(tmp_path)
    log_path = tmp_path / "server.log"
    with one_server(settings, log_path, WORKERS) as server:
        deadline = time.monotonic() + GENEROUS_SECONDS
        wait_workers(server.process, 2, deadline, log_path)
        killed = worker_pids(server.process)[0]

        os.kill(killed, signal.SIGKILL)

        while True:
            pids = worker_pids(server.process)
            if len(pids) == 2 and killed not in pids:
                break
            assert time.monotonic() < deadline, f"no replacement worker:\n{server.log()}"
            time.sleep(0.1)
        assert server.process.poll() is None
        for _ in range(10):  # a new connection each: whichever worker takes it answers
            assert httpx.get(f"{server.base}/readyz", timeout=10).status_code == 200


def test_given_the_supervisor_killed_then_no_worker_is_left_holding_the_port(
    tmp_path: Path,
) -> None:
    settings = _store(tmp_path)
    log_path = tmp_path / "server.log"
    server = start_server(settings, log_path, WORKERS)
    try:
        wait_workers(server.process, 2, time.monotonic() + GENEROUS_SECONDS, log_path)
        workers = worker_pids(server.process)

        server.kill()  # kill -9: the supervisor cannot pass anything on

        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < deadline, "a worker outlived its supervisor"
            time.sleep(0.1)
        # Nobody listens any more: refused (a reset is a socket still on its way out).
        while True:
            try:
                httpx.get(f"{server.base}/healthz", timeout=5)
            except httpx.ConnectError:
                break
            except httpx.ReadError:
                pass
            else:
                pytest.fail("a request was answered after the supervisor was killed")
            assert time.monotonic() < deadline, "the port is still held"
            time.sleep(0.1)
    finally:
        server.stop()


def test_given_sigterm_then_the_supervisor_and_every_worker_exit_cleanly(tmp_path: Path) -> None:
    settings = _store(tmp_path)
    log_path = tmp_path / "server.log"
    server = start_server(settings, log_path, WORKERS)
    try:
        wait_workers(server.process, 2, time.monotonic() + GENEROUS_SECONDS, log_path)
        workers = worker_pids(server.process)
        key = json.loads((settings.data_dir / "demo-keys.json").read_text())["support-desk"]
        headers = {"Authorization": f"Bearer {key}", "X-Purpose": "customer_service"}
        for _ in range(6):
            response = httpx.get(f"{server.base}/v1/customers", headers=headers, timeout=10)
            assert response.status_code == 200

        server.process.terminate()

        assert server.process.wait(timeout=60) == 0, server.log()
        assert not any(_alive(pid) for pid in workers)
        assert "Traceback" not in server.log()
        # The workers ran their shutdown: every entry written, the tail signed.
        size, signed = asyncio.run(_tree_and_checkpoint(settings))
        assert size >= 6
        assert signed == size
    finally:
        server.stop()


async def _tree_and_checkpoint(settings: Settings) -> tuple[int, int | None]:
    db = create_database(settings)
    try:
        async with db.reader.connect() as conn:
            tree = await read_tree(conn)
            latest = await latest_checkpoint(conn)
        return tree.size, None if latest is None else latest.tree_size
    finally:
        await db.dispose()
