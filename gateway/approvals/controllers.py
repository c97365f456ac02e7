"""`/v1/approvals/...`: export requests, their decisions and their single-use tokens."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from gateway.approvals import service
from gateway.approvals.schemas import DecisionBody, ExportRequestBody
from gateway.http.dependencies import GovernedCallDependency, RawBody
from gateway.http.operations import NO_BODY, operation
from gateway.http.query import query

Json = dict[str, object]
ENTITY = service.ENTITY
_BODY = {422: ("unknown_field", "required", "invalid_value")}
_FOUND = {404: ("not_found",)}
_CONTROL = {403: ("no_export_control",)}

Status = Annotated[
    str | None,
    query(
        "Only requests in this state.",
        enum=list(service.STATUSES),
    ),
]


class ApprovalController(Controller):
    path = "/v1/approvals/requests"
    tags = ["approvals"]  # noqa: RUF012 - Litestar declares it as a plain attribute

    @post(
        "/",
        summary="File an export request: reason and exact scope (entity, fields, filter, "
        "maximum records)",
        status_code=201,
        opt=operation(
            "approvals.request",
            ENTITY,
            body=ExportRequestBody,
            problems={422: (*_BODY[422], "unknown_entity"), **_CONTROL},
        ),
    )
    async def file(self, call: GovernedCallDependency, raw_body: NamedDependency[RawBody]) -> Json:
        return await service.file_request(call, await raw_body.read())

    @get(
        "/",
        summary="Export requests of this purpose: your own, or all of them for an approver",
        opt=operation("approvals.list", ENTITY, problems={400: ("invalid_status",), **_CONTROL}),
    )
    async def list_requests(self, call: GovernedCallDependency, status: Status = None) -> Json:
        return await service.list_requests(call, status)

    @get(
        "/{request_id:str}",
        summary="One export request (never its token)",
        opt=operation("approvals.read", ENTITY, problems={**_FOUND, **_CONTROL}),
    )
    async def read(self, call: GovernedCallDependency, request_id: FromPath[str]) -> Json:
        return await service.get_request(call, request_id)

    @post(
        "/{request_id:str}/approve",
        summary="Approve another principal's export request, with a reason",
        status_code=200,
        opt=operation(
            "approvals.approve",
            ENTITY,
            body=DecisionBody,
            problems={
                403: ("no_export_control", "approval_not_allowed", "self_approval", "not_pending"),
                **_FOUND,
                **_BODY,
            },
        ),
    )
    async def approve(
        self,
        call: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        request_id: FromPath[str],
    ) -> Json:
        return await service.decide(call, request_id, await raw_body.read(), approve=True)

    @post(
        "/{request_id:str}/deny",
        summary="Deny another principal's export request, with a reason",
        status_code=200,
        opt=operation(
            "approvals.deny",
            ENTITY,
            body=DecisionBody,
            problems={
                403: ("no_export_control", "approval_not_allowed", "self_approval", "not_pending"),
                **_FOUND,
                **_BODY,
            },
        ),
    )
    async def deny(
        self,
        call: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        request_id: FromPath[str],
    ) -> Json:
        return await service.decide(call, request_id, await raw_body.read(), approve=False)

    @post(
        "/{request_id:str}/token",
        summary="The single-use token of your approved request (shown once; send it as "
        "X-Export-Token on the one read of exactly that scope)",
        status_code=200,
        opt=operation(
            "approvals.token",
            ENTITY,
            body=NO_BODY,
            problems={403: ("no_export_control", "not_requester", "not_approved"), **_FOUND},
        ),
    )
    async def token(self, call: GovernedCallDependency, request_id: FromPath[str]) -> Json:
        return await service.issue_token(call, request_id)
