"""Edit a principal: its roles, purposes, description and whether it must name the end
user it acts for. The form posts the body of `PATCH /v1/policy/principals/{id}` to the
same use case (`policy.principals.update`): invalid input comes back beside its field
with nothing applied; success shows the new version, author, comment and diff."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from gateway.console.admin.access import admin_call, note_refusal
from gateway.console.admin.forms import (
    GENERAL,
    FormErrors,
    change_options,
    json_body,
    names,
    refusable,
    refusal,
)
from gateway.console.admin.outcome import change_applied
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer
from gateway.http.errors import GatewayError, NotFound
from gateway.policy import admin as policy_admin
from gateway.policy.errors import PolicyChangeError

PATH = "/console/admin/principals"
REQUIRE_ON_BEHALF_OF = "require_on_behalf_of"


def place_principal_problem(where: str, reason: str) -> str:
    """`principals.<id>.roles` beside roles, `.purposes` beside purposes."""
    for part in ("roles", "purposes"):
        if where.startswith("principals.") and where.endswith(f".{part}"):
            return part
    return GENERAL


def principal_body(form: Mapping[str, str]) -> dict[str, object]:
    """Every editable attribute is sent: the form shows them all (an unticked box is
    `false`, an emptied description is empty)."""
    return {
        "roles": names(form.get("roles")),
        "purposes": names(form.get("purposes")),
        "description": form.get("description", "").strip(),
        REQUIRE_ON_BEHALF_OF: form.get(REQUIRE_ON_BEHALF_OF) == "on",
    } | change_options(form)


def _form(
    viewer: Viewer,
    pid: str,
    *,
    values: Mapping[str, str],
    version: object,
    errors: FormErrors | None = None,
) -> Template:
    return page(
        "admin/principal_form.html",
        viewer,
        status=errors.status if errors else 200,
        pid=pid,
        values=values,
        version=version,
        errors=errors or FormErrors(),
        roles=sorted(viewer.snapshot.document.roles),
        purposes=sorted(viewer.snapshot.document.purposes),
        current_path=PATH,
    )


@get(
    "/admin/principals/{pid:str}/edit",
    include_in_schema=False,
    opt=audited("policy.principals.list"),
)
async def edit_principal(viewer: NamedDependency[Viewer], pid: FromPath[str]) -> Template:
    listing = await policy_admin.list_principals(admin_call(viewer, "policy.principals.list"))
    principals: Any = listing["principals"]
    found = next((p for p in principals if p["id"] == pid), None)
    if found is None:
        msg = "there is no such principal in the newest policy version"
        raise NotFound(msg)
    values = {
        "roles": " ".join(found["roles"]),
        "purposes": " ".join(found["purposes"]),
        "description": str(found.get("description") or ""),
        REQUIRE_ON_BEHALF_OF: "on" if found.get(REQUIRE_ON_BEHALF_OF) else "",
    }
    return _form(viewer, pid, values=values, version=listing["version"])


@post(
    "/admin/principals/{pid:str}",
    include_in_schema=False,
    status_code=200,
    opt=audited("policy.principals.update"),
)
async def update_principal(viewer: NamedDependency[Viewer], pid: FromPath[str]) -> Template:
    call = admin_call(viewer, "policy.principals.update")
    form = viewer.form
    try:
        result = await policy_admin.update_principal(call, pid, json_body(principal_body(form)))
    except (GatewayError, PolicyChangeError) as exc:
        if not refusable(exc):
            raise
        errors = refusal(exc, place_principal_problem)
        note_refusal(viewer, errors)
        version = form.get("base_version", "")
        return _form(viewer, pid, values=form, version=version, errors=errors)
    return change_applied(viewer, result, current_path=PATH, what="principal")
