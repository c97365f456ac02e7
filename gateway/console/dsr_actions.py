"""The DSR actions as plain POST forms (CSRF checked by the viewer): verify, start,
fulfil, refuse, cancel, extend, download the package, and set or release the
customer's legal hold. Each calls the use case of the `/v1` call it stands for (never
its controller), so it leaves that call's one audit entry; on success the browser is
sent back to the request, on a problem the request is drawn again with the reason
beside the fields it names."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import orjson
from litestar import Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from gateway.console import csrf
from gateway.console.dsr_access import require_dsr
from gateway.console.dsr_detail import HOLD_WRITE_RIGHT, detail_page, unaudited_request
from gateway.console.errors import ConsoleRefusal
from gateway.console.routing import audited
from gateway.console.viewer import Viewer
from gateway.dsr import fulfil, service
from gateway.governance.call import GovernedCall
from gateway.http.errors import AuditUnavailable, Forbidden, GatewayError
from gateway.http.json_body import JSON_MEDIA_TYPE, RequestBody
from gateway.retention.service import change_hold

Step = Callable[[GovernedCall, str, dict[str, str]], Awaitable[object]]
_INTEGER = re.compile(r"\d{1,6}")
_SECRET_FIELDS = frozenset({"evidence"})
"""Fields never written back into a page drawn again (only their hash is kept)."""


def _body(fields: dict[str, str], names: tuple[str, ...]) -> RequestBody:
    """The JSON body the API call would carry, from the form's named fields (a whole
    number where the API wants one; anything else as typed, for the use case to judge)."""
    document: dict[str, object] = {}
    for name in names:
        value = fields.get(name, "").strip()
        document[name] = int(value) if name == "days" and _INTEGER.fullmatch(value) else value
    return RequestBody(raw=orjson.dumps(document), content_type=JSON_MEDIA_TYPE)


STEPS: dict[str, tuple[str, Step]] = {
    "verify": (
        "dsr.verify",
        lambda call, i, f: service.verify(call, i, _body(f, ("method", "evidence"))),
    ),
    "start": ("dsr.start", lambda call, i, _f: service.start(call, i)),
    "fulfil": ("dsr.fulfil", lambda call, i, _f: fulfil.fulfil(call, i)),
    "refuse": (
        "dsr.refuse",
        lambda call, i, f: service.refuse(call, i, _body(f, ("reason", "text"))),
    ),
    "cancel": ("dsr.cancel", lambda call, i, _f: service.cancel(call, i)),
    "extend": (
        "dsr.extend",
        lambda call, i, f: service.extend(call, i, _body(f, ("days", "reason"))),
    ),
}


async def _refused(
    viewer: Viewer, call: GovernedCall, dsr_id: str, step: str, exc: GatewayError
) -> Template:
    """The request drawn again with the problem beside its fields; the action's audit
    entry (written by the guard with this status) is the request's one entry."""
    viewer.audit.reason = exc.reason
    problems = {p.field: p.reason for p in exc.errors}
    values = {k: v for k, v in viewer.form.items() if k not in _SECRET_FIELDS | {csrf.FIELD}}
    request = await unaudited_request(call, dsr_id)
    return await detail_page(
        viewer,
        call,
        request,
        status=exc.status,
        failed=step,
        error=exc.reason,
        problems=problems,
        values=values,
    )


def _back(dsr_id: str) -> Redirect:
    return Redirect(f"/console/dsr/{dsr_id}", status_code=303)


@post("/dsr/{dsr_id:str}/{step:str}", include_in_schema=False, opt=audited("dsr.action"))
async def dsr_action(
    viewer: NamedDependency[Viewer], dsr_id: FromPath[str], step: FromPath[str]
) -> Response[object] | Template:
    require_dsr(viewer)
    known = STEPS.get(step)
    if known is None:
        viewer.audit.reason = "not_found"
        raise ConsoleRefusal("not_found", status=404)
    action, run = known
    call = viewer.call(action, "dsr_requests")
    try:
        await run(call, dsr_id, viewer.form)
    except AuditUnavailable:
        raise
    except GatewayError as exc:
        if exc.status in (401, 403, 404):
            raise
        return await _refused(viewer, call, dsr_id, step, exc)
    return _back(dsr_id)


@post("/dsr/{dsr_id:str}/package", include_in_schema=False, opt=audited("dsr.download"))
async def dsr_download(
    viewer: NamedDependency[Viewer], dsr_id: FromPath[str]
) -> Response[object] | Template:
    require_dsr(viewer)
    call = viewer.call("dsr.download", "dsr_requests")
    wanted = viewer.form.get("format") or "json"
    try:
        content, media_type = await fulfil.download(call, dsr_id, wanted)
    except AuditUnavailable:
        raise
    except GatewayError as exc:
        if exc.status in (401, 403, 404):
            raise
        return await _refused(viewer, call, dsr_id, "download", exc)
    extension = "html" if wanted == "html" else "json"
    # The id was found in the store by the download, so it is one of ours (dsr_<ULID>).
    disposition = f'attachment; filename="{dsr_id}.{extension}"'
    return Response(
        content,
        status_code=200,
        media_type=media_type,
        headers={"Content-Disposition": disposition},
    )


async def _change_hold(
    viewer: Viewer, dsr_id: str, *, release: bool
) -> Response[object] | Template:
    require_dsr(viewer)
    call = viewer.call("retention.hold.release" if release else "retention.hold.set", "legal_holds")
    try:
        if HOLD_WRITE_RIGHT not in call.plan.policy.api_rights:
            msg = f"your roles may not change legal holds for purpose {call.purpose.id!r}"
            raise Forbidden(msg, reason="legal_hold_not_allowed")
        request = await unaudited_request(call, dsr_id)
        body = {"reason": viewer.form.get("reason") or None, "note": viewer.form.get("note")}
        await change_hold(
            viewer.state.db,
            viewer.audit,
            200,
            str(request["customer_id"]),
            body,
            release=release,
        )
    except AuditUnavailable:
        raise
    except GatewayError as exc:
        if exc.status in (401, 403, 404):
            raise
        return await _refused(viewer, call, dsr_id, "release" if release else "hold", exc)
    return _back(dsr_id)


@post("/dsr/{dsr_id:str}/hold", include_in_schema=False, opt=audited("retention.hold.set"))
async def dsr_set_hold(
    viewer: NamedDependency[Viewer], dsr_id: FromPath[str]
) -> Response[object] | Template:
    return await _change_hold(viewer, dsr_id, release=False)


@post(
    "/dsr/{dsr_id:str}/hold/release",
    include_in_schema=False,
    opt=audited("retention.hold.release"),
)
async def dsr_release_hold(
    viewer: NamedDependency[Viewer], dsr_id: FromPath[str]
) -> Response[object] | Template:
    return await _change_hold(viewer, dsr_id, release=True)
