"""A fresh demo store and a `wardgate serve` subprocess with the bare baseline mounted."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import _http

READY_TIMEOUT_S = 180.0  # a shared 2-core machine under load starts slowly


def _wardgate() -> str:
    beside = Path(sys.executable).with_name("wardgate")
    found = str(beside) if beside.exists() else shutil.which("wardgate")
    if found is None:
        msg = "`wardgate` is not installed in this environment"
        raise RuntimeError(msg)
    return found


def prepare_store(data_dir: Path, customers: int, *, reuse: bool) -> None:
    if reuse and (data_dir / "demo-keys.json").exists():
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [_wardgate(), "init", "--demo", "--customers", str(customers), "--data-dir", str(data_dir)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def support_desk_key(data_dir: Path) -> str:
    keys: dict[str, str] = json.loads((data_dir / "demo-keys.json").read_text())
    return keys["support-desk"]


def _query(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    # Read-only, so the benchmark can look while the server writes (WAL).
    uri = f"file:{data_dir / 'wardgate.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        return conn.execute(sql).fetchall()


def customer_ids(data_dir: Path) -> list[str]:
    return [str(row[0]) for row in _query(data_dir, "SELECT id FROM customers ORDER BY id")]


def audit_rows(data_dir: Path) -> int:
    return int(str(_query(data_dir, "SELECT count(*) FROM audit_events")[0][0]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_http.HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process (all its threads), from /proc."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_ready(server: Server, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            msg = f"wardgate serve exited with {server.process.returncode}; see {log}"
            raise RuntimeError(msg)
        try:
            if _http.get(server.port, "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    msg = f"wardgate serve not ready after {READY_TIMEOUT_S:.0f} s; see {log}"
    raise RuntimeError(msg)


@contextmanager
def serve(data_dir: Path, log: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """Run the gateway for the duration of the block; it is stopped on any exit."""
    env = os.environ | {"WARDGATE_BENCH_BARE": "1", "WARDGATE_LOG_LEVEL": "warning"}
    env |= extra_env or {}
    port = free_port()
    command = [_wardgate(), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port)
    try:
        _wait_ready(server, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
