"""A small asyncio load generator, for machines without wrk.

Each connection is a keep-alive HTTP/1.1 loop: send one request, read the whole
response, record its latency, repeat until the deadline (closed loop, like wrk). It
spends CPU that the server would otherwise have, so its figures are lower than wrk's;
the governed/bare ratio is what to compare.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench._http import HOST
from bench._load import LoadResult
from bench._scenarios import Scenario


@dataclass(slots=True)
class _Tally:
    latencies: list[float] = field(default_factory=list)
    bad_status: int = 0
    socket_errors: int = 0


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one whole response off the stream and return its status."""
    status = int((await reader.readline()).split(b" ", 2)[1])
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        await reader.readexactly(length)
        return status
    while size := int((await reader.readline()).split(b";")[0], 16):
        await reader.readexactly(size + 2)
    await reader.readline()  # the blank line after the last chunk
    return status


async def _connection(
    port: int, requests: list[bytes], start: int, deadline: float, tally: _Tally
) -> None:
    index = start
    while time.perf_counter() < deadline:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            tally.socket_errors += 1
            await asyncio.sleep(0.01)
            continue
        try:
            while (sent := time.perf_counter()) < deadline:
                writer.write(requests[index])
                index = (index + 1) % len(requests)
                status = await _read_response(reader)
                tally.latencies.append(time.perf_counter() - sent)
                if not 200 <= status < 300:
                    tally.bad_status += 1
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.socket_errors += 1  # then reconnect, as wrk does
        finally:
            writer.close()


def _percentile_ms(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1e3


@dataclass(frozen=True, slots=True)
class PythonLoad:
    connections: int
    name: str = "python asyncio (bench/_pyload.py)"

    def run(self, port: int, scenario: Scenario, seconds: float) -> LoadResult:
        return asyncio.run(self._run(port, scenario, seconds))

    async def _run(self, port: int, scenario: Scenario, seconds: float) -> LoadResult:
        head = "".join(f"{k}: {v}\r\n" for k, v in scenario.headers.items())
        requests = [
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{head}\r\n".encode()
            for path in scenario.paths
        ]
        tally = _Tally()
        started = time.perf_counter()
        deadline = started + seconds
        stride = max(1, len(requests) // self.connections)
        await asyncio.gather(
            *(
                _connection(port, requests, (n * stride) % len(requests), deadline, tally)
                for n in range(self.connections)
            )
        )
        ordered = sorted(tally.latencies)
        return LoadResult(
            requests=len(ordered),
            seconds=time.perf_counter() - started,
            p50_ms=_percentile_ms(ordered, 0.50),
            p99_ms=_percentile_ms(ordered, 0.99),
            bad_status=tally.bad_status,
            socket_errors=tally.socket_errors,
        )
