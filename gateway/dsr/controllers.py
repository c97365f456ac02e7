"""`/v1/dsr`: data subjects' requests. Parse, delegate to the use cases, shape the response."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from gateway.dsr import bodies, fulfil, service
from gateway.dsr.machine import RequestType, Status
from gateway.http.dependencies import GovernedCallDependency, RawBody
from gateway.http.operations import NO_BODY, merge, operation
from gateway.http.query import Limit, query

Json = dict[str, object]

_RIGHT = {403: ("dsr_not_allowed",)}
_ONE = merge(_RIGHT, {404: ("not_found",)})
_MOVE = merge(_ONE, {409: ("wrong_status",)})
_BODY = {422: ("unknown_field", "required", "too_long")}
_FILE = merge(
    _RIGHT,
    {
        404: ("not_found",),
        410: ("erased",),
        422: ("unknown_field", "required", "unknown_type", "not_applicable", "invalid_type"),
    },
)
_FULFIL = merge(
    _MOVE,
    {
        403: ("write_not_allowed", "field_not_writable", "erase_not_allowed"),
        409: ("legal_hold",),
        410: ("erased",),
        422: ("unknown_field", "no_fields", "invalid_phone", "invalid_email", "invalid_id_number"),
    },
)
_DOWNLOAD = merge(
    _MOVE,
    {
        400: ("invalid_format",),
        409: ("no_package",),
        410: ("package_expired", "download_limit_reached", "erased"),
    },
)


def _filter(what: str, values: tuple[str, ...] = ()) -> object:
    description = f"Only requests whose {what} equals this value."
    return query(description, enum=list(values)) if values else query(description)


class DsrController(Controller):
    path = "/v1/dsr"
    tags = ["dsr"]  # noqa: RUF012 - Litestar declares it as a plain attribute

    @post(
        "/",
        summary="File a data subject's request (PIPL Art. 44-48)",
        opt=operation("dsr.file", "dsr_requests", body=bodies.FileRequest, problems=_FILE),
    )
    async def file_request(
        self, call: GovernedCallDependency, raw_body: NamedDependency[RawBody]
    ) -> Response[Json]:
        result = await service.file_request(call, await raw_body.read())
        return Response(result.to_json(), status_code=201)

    @get(
        "/",
        summary="Requests, overdue first, with working days left",
        opt=operation(
            "dsr.list",
            "dsr_requests",
            problems=merge(
                _RIGHT,
                {400: ("invalid_status", "invalid_type", "invalid_overdue", "invalid_limit")},
            ),
        ),
    )
    async def list_requests(
        self,
        call: GovernedCallDependency,
        limit: Limit = None,
        status: Annotated[str | None, _filter("status", tuple(Status))] = None,
        type: Annotated[str | None, _filter("type", tuple(RequestType))] = None,
        customer_id: Annotated[str | None, _filter("customer id")] = None,
        overdue: Annotated[
            str | None,
            query(
                "`true`: only overdue open requests; `false`: all others.", enum=["true", "false"]
            ),
        ] = None,
    ) -> Json:
        params = {
            "limit": limit,
            "status": status,
            "type": type,
            "customer_id": customer_id,
            "overdue": overdue,
        }
        return (await service.list_requests(call, params)).to_json()

    @get(
        "/{dsr_id:str}",
        summary="One request with its history",
        opt=operation("dsr.read", "dsr_requests", problems=_ONE),
    )
    async def show_request(self, call: GovernedCallDependency, dsr_id: FromPath[str]) -> Json:
        return (await service.show_request(call, dsr_id)).to_json()

    @post(
        "/{dsr_id:str}/verify",
        summary="Record the identity verification (method and a hash of the evidence)",
        status_code=200,
        opt=operation(
            "dsr.verify",
            "dsr_requests",
            body=bodies.VerifyRequest,
            problems=merge(_MOVE, _BODY, {422: ("invalid_method",)}),
        ),
    )
    async def verify(
        self,
        call: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        dsr_id: FromPath[str],
    ) -> Json:
        return (await service.verify(call, dsr_id, await raw_body.read())).to_json()

    @post(
        "/{dsr_id:str}/start",
        summary="Start work on a verified request",
        status_code=200,
        opt=operation("dsr.start", "dsr_requests", body=NO_BODY, problems=_MOVE),
    )
    async def start(self, call: GovernedCallDependency, dsr_id: FromPath[str]) -> Json:
        return (await service.start(call, dsr_id)).to_json()

    @post(
        "/{dsr_id:str}/fulfil",
        summary="Fulfil a request in progress (package, correction, deletion, explanation)",
        status_code=200,
        opt=operation("dsr.fulfil", "dsr_requests", body=NO_BODY, problems=_FULFIL),
    )
    async def fulfil(self, call: GovernedCallDependency, dsr_id: FromPath[str]) -> Json:
        return (await fulfil.fulfil(call, dsr_id)).to_json()

    @post(
        "/{dsr_id:str}/refuse",
        summary="Refuse with a reason word and a text for the person (PIPL Art. 50)",
        status_code=200,
        opt=operation(
            "dsr.refuse",
            "dsr_requests",
            body=bodies.RefuseRequest,
            problems=merge(_MOVE, _BODY, {422: ("reason_required", "invalid_reason")}),
        ),
    )
    async def refuse(
        self,
        call: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        dsr_id: FromPath[str],
    ) -> Json:
        return (await service.refuse(call, dsr_id, await raw_body.read())).to_json()

    @post(
        "/{dsr_id:str}/cancel",
        summary="Cancel an open request",
        status_code=200,
        opt=operation("dsr.cancel", "dsr_requests", body=NO_BODY, problems=_MOVE),
    )
    async def cancel(self, call: GovernedCallDependency, dsr_id: FromPath[str]) -> Json:
        return (await service.cancel(call, dsr_id)).to_json()

    @post(
        "/{dsr_id:str}/extend",
        summary="Extend the due date by working days, with a reason",
        status_code=200,
        opt=operation(
            "dsr.extend",
            "dsr_requests",
            body=bodies.ExtendRequest,
            problems=merge(_MOVE, _BODY, {422: ("invalid_type", "out_of_range")}),
        ),
    )
    async def extend(
        self,
        call: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        dsr_id: FromPath[str],
    ) -> Json:
        return (await service.extend(call, dsr_id, await raw_body.read())).to_json()

    @get(
        "/{dsr_id:str}/package",
        summary="Download the package (JSON or a Chinese HTML page); counted and expiring",
        opt=operation("dsr.download", "dsr_requests", problems=_DOWNLOAD),
    )
    async def download(
        self,
        call: GovernedCallDependency,
        dsr_id: FromPath[str],
        format: Annotated[
            str | None, query("`json` (default) or `html`.", enum=["json", "html"])
        ] = None,
    ) -> Response[bytes]:
        content, media_type = await fulfil.download(call, dsr_id, format)
        return Response(content, media_type=media_type)
