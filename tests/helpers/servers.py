"""Real gateway processes on loopback (`wardgate serve` in a subprocess), for tests that
need several processes on one store, a server under load, or what only a real server
shows (transport limits, kill -9, a store failing under a live process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.settings import Settings

CHECKPOINT_EVERY = 50  # entries: servers sign checkpoints while a load runs
READY_POLL_SECONDS = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDGATE_")}
    env |= {
        "WARDGATE_LOG_LEVEL": "warning",
        "WARDGATE_DATA_DIR": str(settings.data_dir),
        "WARDGATE_CHECKPOINT_ENTRIES": str(CHECKPOINT_EVERY),
        # One process per server unless a test asks for workers (`serving(workers=...)`).
        "WARDGATE_WORKERS": "1",
    }
    if settings.database_url is not None:
        env["WARDGATE_DATABASE_URL"] = settings.database_url
    if settings.keystore_url is not None:
        env["WARDGATE_KEYSTORE_URL"] = settings.keystore_url
    return env


def wait_ready(
    base: str, server: subprocess.Popen[bytes], deadline: float, log_path: Path | None = None
) -> None:
    """Poll `base/readyz` every 0.1 s until it answers 200; fail the test if the server
    exits or `deadline` (a `time.monotonic()` instant) passes first. The sleep comes after
    every unready answer, a refused connection or a 503 alike, so the wait never spins."""
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            log = log_path.read_text() if log_path is not None else "(output not kept)"
            pytest.fail(f"gateway {base} did not become ready:\n{log}")
        time.sleep(READY_POLL_SECONDS)


def worker_pids(server: subprocess.Popen[bytes]) -> list[int]:
    """The live child processes of a `serve --workers N` supervisor, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        if int(stat.rsplit(")", 1)[1].split()[1]) == server.pid:
            found.append(int(entry.name))
    return sorted(found)


def wait_workers(
    server: subprocess.Popen[bytes], workers: int, deadline: float, log_path: Path
) -> None:
    """The supervisor has forked all its workers (readiness already came from one)."""
    while len(worker_pids(server)) < workers:
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"gateway did not start {workers} workers:\n{log_path.read_text()}")
        time.sleep(READY_POLL_SECONDS)


@contextmanager
def serving(
    settings: Settings,
    processes: int,
    logs: Path,
    env: dict[str, str] | None = None,
    workers: int = 1,
) -> Iterator[list[str]]:
    """Start `processes` gateways on one store (each `serve --workers workers`), wait
    until all are ready, stop them after (SIGTERM; each must exit 0 within 15 s)."""
    servers: list[tuple[subprocess.Popen[bytes], Path]] = []
    bases: list[str] = []
    try:
        for n in range(processes):
            port = free_port()
            log_path = logs / f"server-{n}.log"
            with log_path.open("wb") as log_file:
                server = subprocess.Popen(
                    [
                        *(sys.executable, "-m", "gateway.cli.main", "serve"),
                        *("--port", str(port), "--workers", str(workers)),
                    ],
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=server_env(settings) | (env or {}),
                )
            servers.append((server, log_path))
            bases.append(f"http://127.0.0.1:{port}")
        # Generous: a loaded 2-core CI machine starts two gateways (each builds its PII
        # detector) at once; readiness, not start-up speed, is what these tests check.
        deadline = time.monotonic() + 90
        for (server, log_path), base in zip(servers, bases, strict=True):
            wait_ready(base, server, deadline, log_path)
            if workers > 1:
                wait_workers(server, workers, deadline, log_path)
        yield bases
    finally:
        for server, _ in servers:
            server.terminate()
        for server, log_path in servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)
                pytest.fail(f"a gateway did not stop on SIGTERM:\n{log_path.read_text()}")
            # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly.
            if server.returncode not in (0, -signal.SIGTERM):
                pytest.fail(f"a gateway exited {server.returncode}:\n{log_path.read_text()}")


@dataclass
class Server:
    """One `wardgate serve` process."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, nothing is flushed by the gateway."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(settings: Settings, log_path: Path, env: dict[str, str] | None = None) -> Server:
    """Start one gateway on `settings`' store (plus `env`) and wait until it is ready."""
    port = free_port()
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve", "--port", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=server_env(settings)
            | {"WARDGATE_CRYPTO_SUITE": settings.crypto_suite}
            | (env or {}),
        )
    server = Server(process, port, log_path)
    try:
        wait_ready(server.base, process, time.monotonic() + 90, log_path)
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def one_server(
    settings: Settings, log_path: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """One gateway for the duration of the block."""
    server = start_server(settings, log_path, env)
    try:
        yield server
    finally:
        server.stop()
