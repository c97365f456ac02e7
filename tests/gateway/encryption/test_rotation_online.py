"""Key rotation while a real gateway on loopback serves reads: no read may fail."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.db.opening import open_protector
from gateway.encryption.key_ops import ciphertexts_by_version
from gateway.settings import Settings
from tests.helpers.servers import free_port, wait_ready

CUSTOMERS = 150


def wardgate(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=os.environ | {"WARDGATE_LOG_LEVEL": "warning"},
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    settings = Settings(data_dir=tmp_path / "data")
    asyncio.run(init_store(settings, demo=True, customers=CUSTOMERS))
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.cli.main",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(settings.data_dir),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=os.environ | {"WARDGATE_LOG_LEVEL": "warning"},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # Readiness, not start-up speed, is under test: a loaded 2-core CI host can take
        # longer than 30 s to build the PII detector (as `serving` allows for).
        wait_ready(base, server, time.monotonic() + 90, log_path)
        yield base, settings
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_given_rotations_under_load_then_zero_failed_reads(served: tuple[str, Settings]) -> None:
    base, settings = served
    key = json.loads((settings.data_dir / "demo-keys.json").read_text())["support-desk"]
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": "customer_service"}
    with httpx.Client(base_url=base, headers=headers) as client:
        ids = [c["id"] for c in client.get("/v1/customers", params={"limit": "500"}).json()["data"]]
    assert len(ids) == CUSTOMERS
    stop = threading.Event()
    reads: list[int] = []
    failures: list[str] = []

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        count = 0
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            while not stop.is_set() and count < 20_000:
                customer_id = rng.choice(ids)
                response = client.get(f"/v1/customers/{customer_id}")
                count += 1
                if response.status_code != 200 or "integrity_error" in response.text:
                    failures.append(f"{response.status_code} {response.text[:120]}")
                elif "phone" not in response.json()["data"]:
                    failures.append("phone missing")
        reads.append(count)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        steps = [
            wardgate("keys", "rotate-kek", data_dir=settings.data_dir),
            wardgate("keys", "rotate-dek", "--batch", "25", data_dir=settings.data_dir),
            wardgate("keys", "retire-kek", "--version", "1", data_dir=settings.data_dir),
        ]
        time.sleep(1.5)
        steps.append(wardgate("keys", "purge", "--grace", "1", data_dir=settings.data_dir))
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    for step in steps:
        assert step.returncode == 0, step.stderr
    assert sum(reads) > 100
    assert failures == []

    async def check() -> tuple[dict[int, int], object, int]:
        db = create_database(settings)
        try:
            protector = await open_protector(settings, db)
            keystore = protector.keystore
            status = await keystore.status()
            by_version = dict(await ciphertexts_by_version(db, protector))
            return by_version, status, keystore.keyring.active_version
        finally:
            await db.dispose()

    by_version, status, active = asyncio.run(check())
    assert set(by_version) == {2}, "every stored value is under the new data key version"
    assert status.data_keys_by_version == {2: CUSTOMERS}  # type: ignore[attr-defined]
    assert status.retired_data_keys == 0  # type: ignore[attr-defined]
    assert set(status.data_keys_by_kek_version) == {2}  # type: ignore[attr-defined]
    assert active == 2
    status_output = wardgate("keys", "status", data_dir=settings.data_dir)
    assert status_output.returncode == 0
