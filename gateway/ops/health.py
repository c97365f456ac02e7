"""Liveness, readiness and metrics for operators and load balancers (no /v1: no audit)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec

from gateway.ops.metrics import CONTENT_TYPE, GatewayMetrics
from gateway.ops.readiness import ReadinessProbe
from gateway.state import GatewayState

AnyRequest = Request[Any, Any, Any]


@get("/healthz", summary="Liveness", tags=["ops"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    summary="Readiness: the store answers and an audit entry can be written",
    tags=["ops"],
    responses={
        503: ResponseSpec(
            data_container=None,
            generate_examples=False,
            description="Not ready: `reason` says why (store_unavailable, audit_unavailable, "
            "read_only, disk_full), `fault` which store fault",
        )
    },
)
async def readyz(request: AnyRequest) -> Response[dict[str, object]]:
    state: GatewayState = request.app.state.gateway
    probe: ReadinessProbe = request.app.state.readiness
    readiness = await probe.check()
    body = readiness.to_json()
    if not readiness.ready:
        return Response(body, status_code=503, headers={"Retry-After": "1"})
    return Response(body | {"policy_version": state.snapshot.version})


@get(
    "/metrics",
    summary="Prometheus metrics (no values, ids or keys in labels)",
    tags=["ops"],
    media_type=CONTENT_TYPE,
)
async def metrics(request: AnyRequest) -> Response[bytes]:
    instruments: GatewayMetrics | None = request.app.state.get("metrics")
    if instruments is None:
        raise NotFoundException
    state: GatewayState = request.app.state.gateway
    probe: ReadinessProbe = request.app.state.readiness
    body = await instruments.render(state, await probe.check())
    return Response(body, media_type=CONTENT_TYPE)
