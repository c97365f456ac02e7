"""README, *Several workers*: both commands it gives (`wardgate serve --workers 2` and
uvicorn's process manager) serve one store from several worker processes, and the audit
log stays one verifiable sequence across them.

The docs test skips those blocks (a server runs until stopped); this test runs each as
written, in a directory holding a demo store of its own under `wardgate-data`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from pathlib import Path

import httpx
import pytest

from gateway.db.init_store import init_store
from gateway.settings import Settings
from tests.helpers.readme_server import BIN, block_env, readme_block, serving_block
from tests.helpers.servers import free_port

READY_SECONDS = 300.0  # two workers each build the PII detector on a busy 2-core machine
READS = 12


def _descendants(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(child) for child in path.read_text().split()] if path.exists() else []
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _workers(pid: int, server: str) -> int:
    """Worker processes under `pid`: uvicorn spawns them (multiprocessing's spawn entry
    point); `wardgate serve` forks them from its supervisor (same command line)."""
    lines: list[bytes] = []
    for child in [pid, *_descendants(pid)]:  # bash may exec the one command itself
        with contextlib.suppress(OSError):
            lines.append(Path(f"/proc/{child}/cmdline").read_bytes())
    if server == "uvicorn":
        return sum(b"spawn_main" in line for line in lines)
    return sum(b"serve" in line for line in lines) - 1  # the supervisor is not a worker


@pytest.mark.parametrize("server", ["wardgate serve", "uvicorn"])
def test_given_the_readme_workers_command_then_several_workers_serve_one_audited_store(
    server: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "wardgate-data"
    asyncio.run(init_store(Settings(data_dir=data_dir), demo=True, customers=5))
    key = json.loads((data_dir / "demo-keys.json").read_text())["support-desk"]
    block = readme_block("Several workers", containing=server)
    script = "\n".join(command.text for command in block.commands)
    port = free_port()

    with serving_block(
        script, tmp_path, block_env(tmp_path), port, tmp_path / "server.log", READY_SECONDS
    ) as shell:
        assert _workers(shell.pid, server.split()[0]) == 2, "the workers the README asks for"
        headers = {"Authorization": f"Bearer {key}", "X-Purpose": "customer_service"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            statuses = [client.get("/v1/customers?limit=2", headers=headers).status_code]
            statuses += [
                client.get("/v1/customers?limit=1", headers=headers).status_code
                for _ in range(READS - 1)
            ]
            metrics = client.get("/metrics").text
    assert statuses == [200] * READS
    assert "wardgate_http_requests_total" in metrics
    if server == "uvicorn":
        assert any((tmp_path / "tmp").iterdir()), "PROMETHEUS_MULTIPROC_DIR made under TMPDIR"

    verified = subprocess.run(
        [str(BIN / "wardgate"), "audit", "verify", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
