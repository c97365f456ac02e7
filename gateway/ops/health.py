"""Liveness and readiness for operators and load balancers."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from gateway.state import GatewayState


@get("/healthz", summary="Liveness", tags=["ops"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", summary="Readiness: the store answers", tags=["ops"])
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, object]]:
    state: GatewayState = request.app.state.gateway
    try:
        async with state.db.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return Response({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return Response({"status": "ready", "policy_version": state.snapshot.version})
