"""Principals, roles, purposes and rules, each as a table with the newest policy
version (and the version in force in this process). Each page is the matching list
read of the policy API (`policy.principals.list`, ...) and leaves its one entry."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from gateway.console.admin.access import admin_call
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer
from gateway.policy import admin as policy_admin

AnyRequest = Request[Any, Any, Any]


@get("/admin/principals", include_in_schema=False, opt=audited("policy.principals.list"))
async def principals(viewer: NamedDependency[Viewer]) -> Template:
    listing = await policy_admin.list_principals(admin_call(viewer, "policy.principals.list"))
    return page(
        "admin/principals.html",
        viewer,
        listing=listing,
        current_path="/console/admin/principals",
    )


@get("/admin/roles", include_in_schema=False, opt=audited("policy.roles.list"))
async def roles(viewer: NamedDependency[Viewer]) -> Template:
    listing = await policy_admin.list_roles(admin_call(viewer, "policy.roles.list"))
    return page("admin/roles.html", viewer, listing=listing, current_path="/console/admin/roles")


@get("/admin/purposes", include_in_schema=False, opt=audited("policy.purposes.list"))
async def purposes(viewer: NamedDependency[Viewer]) -> Template:
    listing = await policy_admin.list_purposes(admin_call(viewer, "policy.purposes.list"))
    return page(
        "admin/purposes.html", viewer, listing=listing, current_path="/console/admin/purposes"
    )


@get("/admin/rules", include_in_schema=False, opt=audited("policy.rules.list"))
async def rules(viewer: NamedDependency[Viewer], request: AnyRequest) -> Template:
    wanted = {
        name: value
        for name in ("role", "purpose")
        if (value := request.query_params.get(name, "").strip())
    }
    listing = await policy_admin.list_rules(admin_call(viewer, "policy.rules.list"), wanted)
    return page(
        "admin/rules.html",
        viewer,
        listing=listing,
        filters=wanted,
        current_path="/console/admin/rules",
    )
