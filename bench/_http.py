"""One blocking GET on the loopback, for setup and probes (the load itself never comes here)."""

from __future__ import annotations

import http.client
from collections.abc import Mapping

HOST = "127.0.0.1"


def get(port: int, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
