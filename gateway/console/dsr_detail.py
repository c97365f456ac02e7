"""One request: its state, deadline, history, the customer's legal holds, and the
actions the status machine allows now. The page is the `dsr.read` it stands for (one
audit entry); after a refused action it is drawn again without a read of its own, so
the action's entry stays the request's only one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from gateway.console.dsr_access import require_dsr
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer
from gateway.dsr import records, service
from gateway.dsr.machine import (
    PACKAGE_TYPES,
    Action,
    RefusalReason,
    RequestType,
    Status,
    VerificationMethod,
    WrongStatus,
    next_status,
)
from gateway.governance.call import GovernedCall
from gateway.retention import holds

ACTION = "dsr.read"
HOLD_WRITE_RIGHT = "legal_hold:write"
STEPS = (
    Action.VERIFY,
    Action.START,
    Action.FULFIL,
    Action.REFUSE,
    Action.CANCEL,
    Action.EXTEND,
    Action.DOWNLOAD,
)


def allowed_steps(request: Mapping[str, Any]) -> tuple[str, ...]:
    """The actions the status machine allows from the request's status now (download
    only when a package is there)."""
    current = Status(str(request["status"]))
    steps: list[str] = []
    for step in STEPS:
        try:
            next_status(current, step)
        except WrongStatus:
            continue
        if step is Action.DOWNLOAD and (
            request.get("package") is None or RequestType(str(request["type"])) not in PACKAGE_TYPES
        ):
            continue
        steps.append(step.value)
    return tuple(steps)


async def _holds(call: GovernedCall, customer_id: str) -> list[holds.Hold]:
    async with call.state.db.reader.connect() as conn:
        return await holds.hold_history(conn, customer_id)


async def detail_page(
    viewer: Viewer,
    call: GovernedCall,
    request: Mapping[str, Any],
    *,
    status: int = 200,
    failed: str | None = None,
    error: str | None = None,
    problems: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Template:
    """The detail page of `request` (as `records.request_json` shows it, with history);
    `failed` names the form whose `problems` are shown beside its fields."""
    return page(
        "dsr/detail.html",
        viewer,
        status=status,
        dsr=request,
        steps=allowed_steps(request),
        holds=await _holds(call, str(request["customer_id"])),
        may_hold=HOLD_WRITE_RIGHT in viewer.access.rights,
        hold_reasons=holds.HOLD_REASONS,
        release_reasons=holds.RELEASE_REASONS,
        methods=tuple(m.value for m in VerificationMethod),
        refusal_reasons=tuple(r.value for r in RefusalReason),
        failed=failed,
        error=error,
        problems=dict(problems or {}),
        values=dict(values or {}),
        current_path="/console/dsr",
    )


async def unaudited_request(call: GovernedCall, dsr_id: str) -> dict[str, Any]:
    """The request with its history, read for a page whose audit entry is another's."""
    async with call.state.db.reader.connect() as conn:
        row = await records.load(conn, call, dsr_id)
        events = await records.history(conn, dsr_id)
    return service.shown(call, row, events)


@get("/dsr/{dsr_id:str}", include_in_schema=False, opt=audited(ACTION))
async def dsr_detail(viewer: NamedDependency[Viewer], dsr_id: FromPath[str]) -> Template:
    require_dsr(viewer)
    call = viewer.call(ACTION, "dsr_requests")
    result = await service.show_request(call, dsr_id)
    assert isinstance(result.data, dict)  # noqa: S101 - show_request returns one request
    return await detail_page(viewer, call, result.data)
