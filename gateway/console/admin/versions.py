"""Policy versions: the list (author, time, comment), a side-by-side diff of any two,
and rollback with a confirmation step that names what will change. Reads are the
policy API's `policy.versions.list` and `policy.versions.diff`; the rollback is its
`policy.rollback` use case, a new version whose entry carries the diff."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from gateway.console.admin.access import admin_call, refused_as_page
from gateway.console.admin.forms import change_options, json_body
from gateway.console.admin.outcome import change_applied, diff_line_kind
from gateway.console.admin.side_by_side import side_by_side
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer
from gateway.governance.call import GovernedCall
from gateway.http.errors import BadRequest, FieldProblem
from gateway.policy import admin as policy_admin

AnyRequest = Request[Any, Any, Any]
PATH = "/console/admin/versions"


@get("/admin/versions", include_in_schema=False, opt=audited("policy.versions.list"))
async def versions(viewer: NamedDependency[Viewer]) -> Template:
    listing = await policy_admin.versions(admin_call(viewer, "policy.versions.list"))
    return page("admin/versions.html", viewer, listing=listing, current_path=PATH)


def _version_param(request: AnyRequest, name: str) -> int:
    raw = request.query_params.get(name, "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        msg = f"{name} must be a policy version number"
        raise BadRequest(
            msg, reason="invalid_version", errors=(FieldProblem(name, "invalid_version"),)
        )
    return int(raw)


async def _compare(call: GovernedCall, first: int, second: int) -> dict[str, Any]:
    """The two versions (author, time, comment, document) and what changed between."""
    left = await policy_admin.version(call, first)
    right = await policy_admin.version(call, second)
    changes = await policy_admin.diff(call, first, second)
    lines: Any = changes["text"]
    return {
        "left": left,
        "right": right,
        "lines": [(diff_line_kind(str(line)), str(line)) for line in lines],
        "sides": side_by_side(left["document"], right["document"]),  # type: ignore[arg-type]
    }


@get("/admin/versions/diff", include_in_schema=False, opt=audited("policy.versions.diff"))
async def diff(viewer: NamedDependency[Viewer], request: AnyRequest) -> Template:
    call = admin_call(viewer, "policy.versions.diff")
    first, second = _version_param(request, "from"), _version_param(request, "to")
    with refused_as_page():
        compared = await _compare(call, first, second)
    return page("admin/diff.html", viewer, current_path=PATH, **compared)


@get(
    "/admin/versions/{version:int}/rollback",
    include_in_schema=False,
    opt=audited("policy.versions.diff"),
)
async def confirm_rollback(viewer: NamedDependency[Viewer], version: FromPath[int]) -> Template:
    """What rolling back would change: the newest version against `version`."""
    call = admin_call(viewer, "policy.versions.diff")
    listing = await policy_admin.versions(call)
    entries: Any = listing["versions"]
    newest = int(entries[0]["version"])
    with refused_as_page():
        compared = await _compare(call, newest, version)
    return page(
        "admin/rollback.html",
        viewer,
        target=version,
        newest=newest,
        current_path=PATH,
        **compared,
    )


@post(
    "/admin/versions/{version:int}/rollback",
    include_in_schema=False,
    status_code=200,
    opt=audited("policy.rollback"),
)
async def rollback(viewer: NamedDependency[Viewer], version: FromPath[int]) -> Template:
    call = admin_call(viewer, "policy.rollback")
    with refused_as_page():
        result = await policy_admin.rollback(call, version, json_body(change_options(viewer.form)))
    return change_applied(viewer, result, current_path=PATH, what="rollback")
