"""Compliance API: parse, delegate to the audit reads pipeline, shape the response."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Stream

from gateway.compliance import reads as audit_reads
from gateway.compliance.export import MEDIA_TYPES
from gateway.compliance.request_audit import request_audit
from gateway.governance.call import GovernedCall, begin_call
from gateway.state import GatewayState

AnyRequest = Request[Any, Any, Any]


def _call(request: AnyRequest, action: str) -> GovernedCall:
    """Who is calling, decided before any parameter is looked at: a caller without the
    audit right gets 403 whatever it sent."""
    state: GatewayState = request.app.state.gateway
    call = begin_call(
        state,
        request.headers,
        request_audit(request.scope["state"]),
        action=action,
        entity="audit_events",
    )
    audit_reads.require_audit_right(call)
    return call


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["audit"]  # noqa: RUF012 - Litestar declares it as a plain attribute

    @get("/events", summary="Audit entries, filtered, in cursor pages")
    async def list_events(self, request: AnyRequest) -> dict[str, object]:
        call = _call(request, "audit.events.list")
        return (await audit_reads.list_events(call, request.query_params)).to_json()

    @get("/events/{seq:int}", summary="One audit entry")
    async def get_event(self, request: AnyRequest, seq: FromPath[int]) -> dict[str, object]:
        call = _call(request, "audit.events.read")
        return (await audit_reads.get_event(call, seq)).to_json()

    @get("/verify", summary="Recompute the log and check it against the signed checkpoints")
    async def verify(self, request: AnyRequest) -> dict[str, object]:
        call = _call(request, "audit.verify")
        return (await audit_reads.verify(call)).to_json()

    @get("/checkpoints/latest", summary="The latest signed checkpoint and the verifier key")
    async def latest_checkpoint(self, request: AnyRequest) -> dict[str, object]:
        call = _call(request, "audit.checkpoint")
        refresh = request.query_params.get("refresh", "").lower() in ("1", "true", "yes")
        return await audit_reads.latest_checkpoint(call, refresh=refresh)

    @get("/proofs/inclusion", summary="RFC 6962 inclusion proof of an entry")
    async def inclusion(self, request: AnyRequest) -> dict[str, object]:
        call = _call(request, "audit.proof.inclusion")
        params = request.query_params
        seq = audit_reads.parse_seq(params.get("seq"), "seq")
        size = audit_reads.parse_seq(params.get("tree_size"), "tree_size")
        return await audit_reads.inclusion_proof(call, seq, size)

    @get("/proofs/consistency", summary="RFC 6962 consistency proof between two tree sizes")
    async def consistency(self, request: AnyRequest) -> dict[str, object]:
        call = _call(request, "audit.proof.consistency")
        params = request.query_params
        first = audit_reads.parse_seq(params.get("first"), "first")
        second = audit_reads.parse_seq(params.get("second"), "second")
        return await audit_reads.consistency_proof(call, first, second)

    @get("/export", summary="The whole log, streamed as JSON Lines or CSV")
    async def export(self, request: AnyRequest) -> Response[Any]:
        call = _call(request, "audit.export")
        fmt, lines = await audit_reads.export(call, request.query_params.get("format"))
        # A browser saves it as a file named for what it is, not as "export".
        disposition = f'attachment; filename="wardgate-audit.{fmt.value}"'
        return Stream(
            lines, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition}
        )


@get(
    "/v1/customers/{customer_id:str}/access-report",
    summary="Who accessed this person's data",
    tags=["audit"],
)
async def access_report(request: AnyRequest, customer_id: FromPath[str]) -> dict[str, object]:
    state: GatewayState = request.app.state.gateway
    call = begin_call(
        state,
        request.headers,
        request_audit(request.scope["state"]),
        action="customers.access_report",
        entity="customers",
    )
    return (await audit_reads.access_report(call, customer_id)).to_json()
