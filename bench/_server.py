"""A fresh demo store (SQLite, or a PostgreSQL database of its own) and a `wardgate serve`
subprocess (one or several workers) with the bench-only floor and bare routes mounted."""

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
    """The `wardgate` beside this Python, or WARDGATE_BENCH_SERVER (another build's, to
    measure a baseline with the same benchmark)."""
    chosen = os.environ.get("WARDGATE_BENCH_SERVER")
    if chosen:
        return chosen
    beside = Path(sys.executable).with_name("wardgate")
    found = str(beside) if beside.exists() else shutil.which("wardgate")
    if found is None:
        msg = "`wardgate` is not installed in this environment"
        raise RuntimeError(msg)
    return found


def prepare_store(
    data_dir: Path, customers: int, *, reuse: bool, env: dict[str, str] | None = None
) -> None:
    """A demo store in `data_dir`; `env` names a PostgreSQL store (WARDGATE_DATABASE_URL)."""
    if reuse and (data_dir / "demo-keys.json").exists():
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [_wardgate(), "init", "--demo", "--customers", str(customers), "--data-dir", str(data_dir)],
        check=True,
        stdout=subprocess.DEVNULL,
        env=os.environ | (env or {}),
    )


def set_export_threshold(
    data_dir: Path, purpose: str, threshold: int, env: dict[str, str] | None = None
) -> None:
    """A new policy version in which `purpose` counts every read against `threshold`
    (`wardgate policy export`, edit, `wardgate policy apply`, with the build measured):
    the export-threshold gate then runs on every governed read of the benchmark."""
    import tempfile

    import yaml

    run_env = os.environ | (env or {})
    with tempfile.TemporaryDirectory(prefix="wardgate-bench-policy-") as tmp:
        subprocess.run(
            [_wardgate(), "policy", "export", tmp, "--data-dir", str(data_dir)],
            check=True,
            stdout=subprocess.DEVNULL,
            env=run_env,
        )
        path = Path(tmp) / "purposes.yaml"
        document = yaml.safe_load(path.read_text())
        document.get("purposes", document)[purpose]["export_threshold"] = threshold
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        subprocess.run(
            [
                *(_wardgate(), "policy", "apply", tmp, "--data-dir", str(data_dir)),
                *("--comment", "bench: export threshold"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env=run_env,
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


def _stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (field 3 is index 0)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """Live child processes of `pid` (the workers of a supervisor)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    return sorted(found)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass(frozen=True, slots=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int
    workers: int = 1
    startup_seconds: float = 0.0
    """From the start of the process to its first 200 on /readyz."""

    def pids(self) -> list[int]:
        """The serving processes: the workers, or the one process itself."""
        return children(self.process.pid) if self.workers > 1 else [self.process.pid]

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and its workers (all threads), from /proc."""
        total = 0
        for pid in {self.process.pid, *children(self.process.pid)}:
            try:
                fields = _stat(pid)
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> list[float]:
        """Resident memory of each serving process, MB."""
        return [rss_mb(pid) for pid in self.pids()]


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
        time.sleep(0.02)
    msg = f"wardgate serve not ready after {READY_TIMEOUT_S:.0f} s; see {log}"
    raise RuntimeError(msg)


def _wait_workers(server: Server, log: Path) -> None:
    """Every worker is serving: new connections reach any of them, so probe until as
    many distinct worker pids have answered as there are workers."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    seen: set[str] = set()
    while len(seen) < server.workers:
        if time.monotonic() > deadline:
            msg = f"only {len(seen)} of {server.workers} workers ready; see {log}"
            raise RuntimeError(msg)
        status, body = _http.get(server.port, "/bench/worker")
        if status == 200:
            seen.add(str(json.loads(body)["pid"]))
        else:
            time.sleep(0.05)


@contextmanager
def serve(
    data_dir: Path,
    log: Path,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    wardgate: str | None = None,
) -> Iterator[Server]:
    """Run the gateway for the duration of the block; it is stopped on any exit.
    `wardgate` is the executable to run (default: `_wardgate()`)."""
    env = os.environ | {"WARDGATE_BENCH_BARE": "1", "WARDGATE_LOG_LEVEL": "warning"}
    # By the environment, not `--workers`: an older gateway (a baseline) ignores it.
    env |= {"WARDGATE_WORKERS": str(workers)} | (extra_env or {})
    port = free_port()
    command = [wardgate or _wardgate(), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port, workers)
    try:
        _wait_ready(server, log)
        server = Server(process, port, workers, time.monotonic() - started)
        if workers > 1:
            _wait_workers(server, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
