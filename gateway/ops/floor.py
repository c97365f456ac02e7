"""The benchmark's floor, for `make bench` only (WARDGATE_BENCH_BARE=1).

`/bench/floor/{shape}` answers a constant body through the same app, middleware and
serializer as a governed read, touching no store: what the server stack itself costs.
The body is a governed response the benchmark saved in the data directory
(`bench-floor-<shape>.json`, synthetic demo data already masked); it is read once per
process and re-serialized on every request, as a governed response is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from gateway.state import GatewayState

SHAPES = ("single", "page")
_bodies: dict[Path, dict[str, Any]] = {}


def floor_file(data_dir: Path, shape: str) -> Path:
    """Where the benchmark saves the body the floor answers for `shape`."""
    return data_dir / f"bench-floor-{shape}.json"


@get("/bench/floor/{shape:str}", include_in_schema=False)
async def floor(request: Request[Any, Any, Any], shape: FromPath[str]) -> dict[str, Any]:
    state: GatewayState = request.app.state.gateway
    if shape not in SHAPES:
        raise NotFoundException
    path = floor_file(state.settings.data_dir, shape)
    body = _bodies.get(path)
    if body is None:
        try:
            body = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            raise NotFoundException from None
        _bodies[path] = body
    return body


@get("/bench/worker", include_in_schema=False)
async def worker() -> dict[str, int]:
    """Which worker process answered: the benchmark waits until every one of them has."""
    return {"pid": os.getpid()}
