"""`wardgate serve` bounds what a connection may cost before the application sees it.

Against a real server on loopback: an oversized header is refused with 431 after one
read, not read to its end; a head sent a byte at a time (slowloris) is cut off with 408
at the deadline; a long target gets 414; idle and surplus connections are closed or
refused — and all the while other clients are served at once.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.db.init_store import init_store
from gateway.settings import Settings
from tests.helpers.servers import Server, one_server

pytestmark = pytest.mark.fault

HEAD_TIMEOUT = 1.5
BODY_TIMEOUT = 1.5
KEEPALIVE = 1.0
MAX_CONNECTIONS = 8


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("transport") / "data")
    asyncio.run(init_store(settings, demo=True, customers=3))
    return settings


@pytest.fixture(scope="module")
def scan_key(settings: Settings) -> str:
    keys: dict[str, str] = json.loads((settings.data_dir / "demo-keys.json").read_text())
    return keys["support-desk"]


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[Server]:
    work = settings.data_dir.parent
    env = {
        "WARDGATE_HTTP_HEADER_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
        "WARDGATE_HTTP_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "WARDGATE_HTTP_KEEPALIVE_SECONDS": str(KEEPALIVE),
        "WARDGATE_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    with one_server(settings, work / "server.log", env) as running:
        yield running


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


class Bystander:
    """Another client asking /healthz in a loop: its slowest answer is what an attack
    costs everyone else."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._stop = threading.Event()
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self._server.base, timeout=5) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    status = client.get("/healthz").status_code
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                    continue
                self.latencies.append(time.perf_counter() - started)
                if status != 200:
                    self.failures.append(str(status))
                time.sleep(0.02)

    def __enter__(self) -> Bystander:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        deadline = time.monotonic() + 5
        while len(self.latencies) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        self._thread.join(timeout=10)


def test_given_oversized_header_then_431_at_once_and_others_served(server: Server) -> None:
    with Bystander(server) as others:
        sock = _connect(server)
        started = time.perf_counter()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        # Stream up to 64 MB of one header value; the server must stop us early.
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_all(sock)
        elapsed = time.perf_counter() - started
        sock.close()
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert sent <= 4 * 1024 * 1024, f"the server read {sent} bytes of one header"
    assert elapsed < 3, elapsed
    assert others.failures == []
    assert len(others.latencies) > 3
    assert max(others.latencies) < 1.0, max(others.latencies)


def test_given_many_headers_over_the_limit_in_one_write_then_431(server: Server) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(200))  # ~21 KiB
    sock = _connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    answer = _read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]


def test_given_headers_under_the_limit_and_a_large_body_then_served(server: Server) -> None:
    """The limit is on the head only: a body in the same reads does not count."""
    headers = {f"X-H{n}": "v" * 100 for n in range(100)}  # ~11 KiB: under 16 KiB
    response = httpx.get(f"{server.base}/healthz", headers=headers, timeout=5)
    assert response.status_code == 200
    body = b"{" + b" " * 600_000 + b"}"
    posted = httpx.post(
        f"{server.base}/v1/scan",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert posted.status_code == 401  # reached the application: no key given


def test_given_long_request_target_then_414(server: Server) -> None:
    sock = _connect(server)
    sock.sendall(b"GET /healthz?q=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = _read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 414 "), answer[:80]


def test_given_slow_header_then_408_at_the_deadline_and_others_served(server: Server) -> None:
    with Bystander(server) as others:
        sock = _connect(server)
        started = time.perf_counter()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed_after: float | None = None
        try:
            for _ in range(40):  # a byte every 0.2 s: 8 s if nobody stops it
                sock.sendall(b"X")
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            closed_after = time.perf_counter() - started
        answer = _read_all(sock)
        if closed_after is None:
            closed_after = time.perf_counter() - started
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
    assert closed_after < HEAD_TIMEOUT + 1.5, closed_after
    assert others.failures == []
    assert max(others.latencies) < 1.0, max(others.latencies)


def _trickle(sock: socket.socket, chunks: int) -> int:
    """Send a byte every 0.2 s; how many went out before the server cut the connection."""
    sent = 0
    try:
        for _ in range(chunks):
            sock.sendall(b" ")
            sent += 1
            time.sleep(0.2)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def _audit_entries(settings: Settings) -> list[dict[str, object]]:
    with sqlite3.connect(settings.sqlite_path) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT action, status, reason FROM audit_events ORDER BY seq")
        return [dict(row) for row in rows]


def test_given_slow_body_then_408_at_the_deadline_and_others_served(
    server: Server, scan_key: str, settings: Settings
) -> None:
    """A client with the right to scan that sends its body a byte at a time: the head
    arrived in time, the body does not, and the connection is cut with 408."""
    body_length = 60  # a byte every 0.2 s: 12 s if nobody stops it
    head = (
        "POST /v1/scan HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {scan_key}\r\nX-Purpose: customer_service\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {body_length}\r\n\r\n"
    )
    with Bystander(server) as others:
        sock = _connect(server)
        sock.sendall(head.encode() + b'{"text": "')
        sent = _trickle(sock, body_length)
        answer = _read_all(sock)
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
    assert b"connection: close" in answer.lower()
    # Cut off well before the body's end (the deadline is 1.5 s of the 12 s).
    assert sent < body_length - 10, sent
    assert others.failures == []
    log = server.log()
    assert "Traceback" not in log
    assert "unexpected error" not in log
    # Its one audit entry says what happened: the body never came (not a gateway fault).
    scans = [entry for entry in _audit_entries(settings) if entry["action"] == "text.scan"]
    assert [(entry["status"], entry["reason"]) for entry in scans][-1:] == [
        (408, "incomplete_body")
    ]


def test_given_body_sent_in_time_then_served(server: Server, scan_key: str) -> None:
    """The deadline is for the whole body, not for each read: a body that arrives in a few
    parts well within it is served."""
    body = b'{"text": "nothing personal here"}'
    head = (
        "POST /v1/scan HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Authorization: Bearer {scan_key}\r\nX-Purpose: customer_service\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    sock = _connect(server)
    sock.sendall(head.encode())
    for part in (body[:10], body[10:20], body[20:]):
        time.sleep(0.1)
        sock.sendall(part)
    answer = _read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


def test_given_connection_that_sends_nothing_then_closed_at_the_deadline(
    server: Server,
) -> None:
    sock = _connect(server)
    started = time.perf_counter()
    answer = _read_all(sock)
    elapsed = time.perf_counter() - started
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert HEAD_TIMEOUT - 0.2 < elapsed < HEAD_TIMEOUT + 1.5, elapsed


def test_given_slow_second_request_on_kept_alive_connection_then_408(server: Server) -> None:
    sock = _connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ")
    started = time.perf_counter()
    sock.sendall(b"GET /healthz HTTP/1.1\r\n")
    try:
        for _ in range(40):
            sock.sendall(b"X")
            time.sleep(0.2)
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = _read_all(sock)
    elapsed = time.perf_counter() - started
    sock.close()
    assert b"HTTP/1.1 408 " in answer
    assert elapsed < HEAD_TIMEOUT + 2, elapsed


def test_given_idle_kept_alive_connection_then_closed_after_keepalive(server: Server) -> None:
    sock = _connect(server)
    started = time.perf_counter()
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    everything = _read_all(sock)
    elapsed = time.perf_counter() - started
    sock.close()
    # One answer, then the server closed the idle connection (no 408: no request began).
    assert everything.startswith(b"HTTP/1.1 200 ")
    assert everything.count(b"HTTP/1.1 ") == 1
    assert KEEPALIVE - 0.2 < elapsed < KEEPALIVE + 1.0, elapsed


def test_given_more_connections_than_the_limit_then_503_not_a_queue(server: Server) -> None:
    held = [_connect(server) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)
        response = httpx.get(f"{server.base}/healthz", timeout=5)
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["reason"] == "over_capacity"
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
