"""A real HTTP server on loopback, and requests sent exactly as written.

Litestar's test client goes through httpx, which normalizes what these tests are about:
it removes dot segments from paths and joins repeated headers into one. Here uvicorn
(the server `wardgate serve` runs) parses the bytes, and `http.client` sends the path
and every header line as given.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from gateway.app import WardgateApp
from gateway.settings import Settings


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@contextmanager
def serving(settings: Settings) -> Iterator[tuple[str, int]]:
    """A gateway on the store of `settings`, served by uvicorn on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        WardgateApp(settings), lifespan="on", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = "the loopback gateway did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield sock.getsockname()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class RawClient:
    """One keep-alive connection; paths and headers go out byte for byte."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self._conn = http.client.HTTPConnection(*address, timeout=60)

    def close(self) -> None:
        self._conn.close()

    def request(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[str, str | bytes]] = (),
        body: bytes | None = None,
    ) -> RawResponse:
        for attempt in (1, 2):
            try:
                return self._send(method, path, headers, body)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server may close an idle keep-alive connection: reconnect once.
                self._conn.close()
                self._conn = http.client.HTTPConnection(*self.address, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _send(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[str, str | bytes]],
        body: bytes | None,
    ) -> RawResponse:
        conn = self._conn
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        content = response.read()
        return RawResponse(
            response.status, {k.lower(): v for k, v in response.getheaders()}, content
        )
