"""The approvals queue: the pending export requests of the viewer's purpose, one
request with its exact scope, and the approve / deny forms (a reason is required).

Each page is one use case of `gateway.approvals.service` under the viewer's governed
call, audited under that use case's action (`approvals.list`, `approvals.read`,
`approvals.approve`, `approvals.deny`) like the `/v1/approvals` request it stands for.
A decision the use case refuses (no reason, the requester's own request, already
decided) is shown beside the reason field of the form it came from.
"""

from __future__ import annotations

from typing import Any

import orjson
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from audit import Outcome
from gateway.approvals import service
from gateway.console.admin.forms import FormErrors, refusable, refusal
from gateway.console.errors import ConsoleRefusal
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer
from gateway.governance.call import GovernedCall
from gateway.http.errors import GatewayError
from gateway.http.json_body import JSON_MEDIA_TYPE, RequestBody

PATH = "/console/approvals"
REASON_FIELD = "reason"
MAX_ID_LENGTH = 64


def approvals_call(viewer: Viewer, action: str) -> GovernedCall:
    """Refuse (403, audited as denied) a viewer whose roles lack `approve_export` under
    the console's purpose; else the governed call of the use case `action`."""
    if service.APPROVE_RIGHT not in viewer.access.rights:
        viewer.audit.action = action
        viewer.audit.entity = service.ENTITY
        viewer.audit.outcome = Outcome.DENIED
        viewer.audit.reason = "screen_not_allowed"
        raise ConsoleRefusal("screen_not_allowed")
    return viewer.call(action, service.ENTITY)


def _checked_id(request_id: str) -> str:
    # Ids are `exp_<ULID>`; anything much longer is no id and is not looked up.
    if len(request_id) > MAX_ID_LENGTH:
        raise ConsoleRefusal("not_found", 404)
    return request_id


@get("/approvals", include_in_schema=False, opt=audited("approvals.list"))
async def pending_requests(viewer: NamedDependency[Viewer]) -> Template:
    call = approvals_call(viewer, "approvals.list")
    listing = await service.list_requests(call, "pending")
    return page("approvals/queue.html", viewer, requests=listing["data"], current_path=PATH)


async def _detail_page(
    viewer: Viewer,
    request: Any,
    *,
    decided: bool = False,
    errors: FormErrors | None = None,
    failed: str = "",
    reason: str = "",
) -> Template:
    return page(
        "approvals/detail.html",
        viewer,
        status=errors.status if errors else 200,
        export=request,
        own=request["requester"] == viewer.principal.id,
        decided=decided,
        errors=errors or FormErrors(),
        failed=failed,
        reason_value=reason,
        current_path=PATH,
    )


@get("/approvals/{request_id:str}", include_in_schema=False, opt=audited("approvals.read"))
async def request_detail(viewer: NamedDependency[Viewer], request_id: FromPath[str]) -> Template:
    call = approvals_call(viewer, "approvals.read")
    request = await service.get_request(call, _checked_id(request_id))
    return await _detail_page(viewer, request, decided=request["status"] != "pending")


def _decision_body(reason: str) -> RequestBody:
    """The API's body; a blank reason is left out, so the use case names it `required`."""
    return RequestBody(orjson.dumps({REASON_FIELD: reason} if reason else {}), JSON_MEDIA_TYPE)


async def _decide(viewer: Viewer, request_id: str, *, approve: bool) -> Template | Redirect:
    action = "approvals.approve" if approve else "approvals.deny"
    call = approvals_call(viewer, action)
    request_id = _checked_id(request_id)
    reason = viewer.form.get(REASON_FIELD, "").strip()
    try:
        await service.decide(call, request_id, _decision_body(reason), approve=approve)
    except GatewayError as exc:
        if not refusable(exc) or exc.reason == "not_found":
            raise
        errors = refusal(exc)
        # A refusal that names no field (own request, already decided) belongs beside
        # the reason of the decision it refused.
        for reason_word in errors.by_field.pop("_form", []):
            errors.add(REASON_FIELD, reason_word)
        moved = {
            REASON_FIELD if name == "body" else name: words
            for name, words in errors.by_field.items()
        }
        errors.by_field = moved
        if viewer.audit.reason is None:
            viewer.audit.reason = errors.reason
        # Shown again as the API shows it to this caller (this request's entry already
        # names the decision; the read is part of it, not a second entry).
        current = await service.get_request(call, request_id)
        return await _detail_page(
            viewer,
            current,
            errors=errors,
            failed="approve" if approve else "deny",
            reason=reason,
        )
    return Redirect(f"{PATH}/{request_id}", status_code=303)


@post(
    "/approvals/{request_id:str}/approve",
    include_in_schema=False,
    status_code=303,
    opt=audited("approvals.approve"),
)
async def approve_request(
    viewer: NamedDependency[Viewer], request_id: FromPath[str]
) -> Template | Redirect:
    return await _decide(viewer, request_id, approve=True)


@post(
    "/approvals/{request_id:str}/deny",
    include_in_schema=False,
    status_code=303,
    opt=audited("approvals.deny"),
)
async def deny_request(
    viewer: NamedDependency[Viewer], request_id: FromPath[str]
) -> Template | Redirect:
    return await _decide(viewer, request_id, approve=False)
