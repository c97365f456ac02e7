"""`POST /v1/scan`: parse the request, hand it to the scan pipeline."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from gateway.compliance.request_audit import request_audit
from gateway.governance.call import begin_call
from gateway.http.json_body import read_body
from gateway.pii.scan_text import scan_text
from gateway.state import GatewayState


@post(
    "/v1/scan",
    summary="The personal data found in a text (types and offsets) and its masked form",
    tags=["scan"],
    status_code=200,
)
async def scan(request: Request[Any, Any, Any]) -> dict[str, object]:
    state: GatewayState = request.app.state.gateway
    audit = request_audit(request.scope["state"])
    call = begin_call(state, request.headers, audit, action="text.scan", entity=None)
    return await scan_text(call, await read_body(request), request.query_params)
