"""A real `wardgate serve` on loopback, for tests of what only a real server shows:
transport limits, kill -9, a store failing under a live process."""

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def store_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any WARDGATE_ setting, plus the store's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDGATE_")}
    env["WARDGATE_DATA_DIR"] = str(settings.data_dir)
    env["WARDGATE_CRYPTO_SUITE"] = settings.crypto_suite
    if settings.database_url is not None:
        env["WARDGATE_DATABASE_URL"] = settings.database_url
    if settings.keystore_url is not None:
        env["WARDGATE_KEYSTORE_URL"] = settings.keystore_url
    return env | (extra or {})


@dataclass
class Server:
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


def start(
    settings: Settings, log_path: Path, env: dict[str, str] | None = None, timeout: float = 90
) -> Server:
    port = free_port()
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve", "--port", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=store_env(settings, env),
        )
    server = Server(process, port, log_path)
    # Generous: a loaded 2-core CI machine builds the PII detector while others run.
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=10)
            pytest.fail(f"gateway did not become ready:\n{server.log()}")
        time.sleep(0.1)


@contextmanager
def serving(
    settings: Settings, log_path: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    server = start(settings, log_path, env)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=10)
