"""API keys of console principals: the keys of every principal (ids and dates, never a
key), issue one (shown this once, with a copy button) and revoke one. Issuing is the
policy API's `policy.keys.issue` use case with its separation of duties: a security
admin cannot mint a key for a principal that reaches customer data or the audit log
(403 `separation_of_duties`, shown beside the principal). Revoking is `policy.keys.revoke`;
a session signed in with the revoked key ends with it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from gateway.console.admin.access import admin_call, note_refusal, refused_as_page
from gateway.console.admin.forms import FormErrors, refusable, refusal
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer
from gateway.http.errors import GatewayError
from gateway.policy import admin as policy_admin
from gateway.policy.errors import PolicyChangeError

AnyRequest = Request[Any, Any, Any]
PATH = "/console/admin/keys"


async def _keys_page(
    viewer: Viewer,
    *,
    revoked: str | None = None,
    chosen: str = "",
    errors: FormErrors | None = None,
) -> Template:
    listing = await policy_admin.list_principals(viewer.call())
    principals: Any = listing["principals"]
    keys = sorted(
        (key for principal in principals for key in principal["keys"]),
        key=lambda key: (not key["active"], key["principal"], key["created_at"]),
    )
    return page(
        "admin/keys.html",
        viewer,
        status=errors.status if errors else 200,
        version=listing["version"],
        principals=[p["id"] for p in principals],
        keys=keys,
        revoked=revoked,
        chosen=chosen,
        errors=errors or FormErrors(),
        current_path=PATH,
    )


@get("/admin/keys", include_in_schema=False, opt=audited("policy.principals.list"))
async def keys(viewer: NamedDependency[Viewer], request: AnyRequest) -> Template:
    admin_call(viewer, "policy.principals.list")
    revoked = request.query_params.get("revoked")
    shown = revoked if revoked and revoked.isalnum() and len(revoked) <= 32 else None
    return await _keys_page(viewer, revoked=shown)


@post("/admin/keys", include_in_schema=False, status_code=200, opt=audited("policy.keys.issue"))
async def issue_key(viewer: NamedDependency[Viewer]) -> Template:
    call = admin_call(viewer, "policy.keys.issue")
    pid = viewer.form.get("principal", "").strip()
    try:
        issued = await policy_admin.issue_api_key(call, pid)
    except (GatewayError, PolicyChangeError) as exc:
        if not refusable(exc):
            raise
        errors = FormErrors()
        errors.status, errors.reason = refusal(exc).status, exc.reason
        errors.add("principal", exc.reason)
        note_refusal(viewer, errors)
        return await _keys_page(viewer, chosen=pid, errors=errors)
    # The key is on this page only: no-store (every console page), never logged.
    return page("admin/key_issued.html", viewer, issued=issued, current_path=PATH)


@post(
    "/admin/keys/{key_id:str}/revoke",
    include_in_schema=False,
    status_code=303,
    opt=audited("policy.keys.revoke"),
)
async def revoke_key(viewer: NamedDependency[Viewer], key_id: FromPath[str]) -> Redirect:
    call = admin_call(viewer, "policy.keys.revoke")
    with refused_as_page():
        info = await policy_admin.revoke(call, key_id)
    return Redirect(f"{PATH}?revoked={quote(str(info['key_id']), safe='')}", status_code=303)
