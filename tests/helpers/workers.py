"""Two clients pinned to two different workers of one `serve --workers 2`.

The workers share one listening socket, so which worker answers a request is the
kernel's choice. Each client keeps one keep-alive connection; the worker process that
holds the server side of it is found in /proc, and connections are opened until the two
clients sit on different workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

PIN_ATTEMPTS = 60


def _socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server side of the loopback connection client_port → server_port."""
    local = f"0100007F:{server_port:04X}"
    remote = f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    return None


def _process_holding(inode: str) -> int | None:
    target = f"socket:[{inode}]"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if fd.readlink().name == target:
                    return int(entry.name)
        except OSError:
            continue  # another user's process, or gone meanwhile
    return None


def serving_worker(client: httpx.Client, base: str) -> tuple[int, int]:
    """(worker pid, client port) of the connection `client` holds to `base`."""
    response = client.get(f"{base}/healthz")
    assert response.status_code == 200
    client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    inode = _socket_inode(int(base.rsplit(":", 1)[1]), client_port)
    assert inode is not None, "the connection is not in /proc/net/tcp"
    pid = _process_holding(inode)
    assert pid is not None, "no process holds the server side of the connection"
    return pid, client_port


def _one_connection() -> httpx.Client:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.Client(timeout=5, limits=limits)


@contextmanager
def clients_on_two_workers(base: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two clients whose keep-alive connections are served by different workers."""
    with ExitStack() as stack:
        first = stack.enter_context(_one_connection())
        pinned = serving_worker(first, base)
        for _ in range(PIN_ATTEMPTS):
            other = stack.enter_context(_one_connection())
            if serving_worker(other, base)[0] != pinned[0]:
                yield first, other
                assert serving_worker(first, base) == pinned, "client A changed worker"
                return
        pytest.fail(f"no connection reached a second worker in {PIN_ATTEMPTS} attempts")
