"""Add, edit and remove a rule. On invalid input the form comes back with every problem
beside its field and nothing applied (the policy version is unchanged); on success the
new version with its author, comment and diff. Each post is the policy API's use case
(`policy.rules.add`, `policy.rules.replace`, `policy.rules.remove`) with its one entry,
which carries the diff of the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from gateway.console.admin.access import admin_call, note_refusal, refused_as_page
from gateway.console.admin.forms import (
    GENERAL,
    FormErrors,
    change_options,
    json_body,
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

RULE_FIELDS = ("role", "purpose", "target", "action", "effect", "operator")
EFFECTS = ("allow", "deny")
_FIELD_OF_REASON = {
    "unknown_role": "role",
    "unknown_purpose": "purpose",
    "unknown_category": "target",
    "unknown_field": "target",
    "unknown_action": "action",
    "unknown_operator": "action",
}
PATH = "/console/admin/rules"


def place_rule_problem(where: str, reason: str) -> str:
    """A review names a rule by its place (`rules[7]`): the reason says which part."""
    if where.startswith("rules["):
        return _FIELD_OF_REASON.get(reason, GENERAL)
    return GENERAL


def rule_body(form: Mapping[str, str]) -> dict[str, object]:
    """The body of `POST /v1/policy/rules` from the form (empty fields left out, so the
    use case names them `required`)."""
    fields: dict[str, object] = {
        name: value for name in RULE_FIELDS if (value := form.get(name, "").strip())
    }
    return fields | change_options(form)


def _form(
    viewer: Viewer,
    *,
    values: Mapping[str, str],
    rule_id: str | None,
    version: object,
    errors: FormErrors | None = None,
) -> Template:
    return page(
        "admin/rule_form.html",
        viewer,
        status=errors.status if errors else 200,
        values=values,
        rule_id=rule_id,
        version=version,
        errors=errors or FormErrors(),
        effects=EFFECTS,
        roles=sorted(viewer.snapshot.document.roles),
        purposes=sorted(viewer.snapshot.document.purposes),
        current_path=PATH,
    )


@get("/admin/rules/new", include_in_schema=False, opt=audited("policy.rules.list"))
async def new_rule(viewer: NamedDependency[Viewer]) -> Template:
    listing = await policy_admin.list_rules(admin_call(viewer, "policy.rules.list"), {})
    values = {"effect": "allow"}
    return _form(viewer, values=values, rule_id=None, version=listing["version"])


@get("/admin/rules/{rule_id:str}/edit", include_in_schema=False, opt=audited("policy.rules.list"))
async def edit_rule(viewer: NamedDependency[Viewer], rule_id: FromPath[str]) -> Template:
    listing = await policy_admin.list_rules(admin_call(viewer, "policy.rules.list"), {})
    rules: Any = listing["rules"]
    found = next((rule for rule in rules if rule["id"] == rule_id), None)
    if found is None:
        msg = "there is no such rule in the newest policy version"
        raise NotFound(msg)
    values = {name: str(found[name]) for name in ("role", "purpose", "target", "action", "effect")}
    return _form(viewer, values=values, rule_id=rule_id, version=listing["version"])


async def _change(viewer: Viewer, action: str, rule_id: str | None) -> Template:
    call = admin_call(viewer, action)
    form = viewer.form
    try:
        if rule_id is None:
            result = await policy_admin.add_rule(call, json_body(rule_body(form)))
        else:
            result = await policy_admin.replace_rule(call, rule_id, json_body(rule_body(form)))
    except (GatewayError, PolicyChangeError) as exc:
        if not refusable(exc):
            raise
        errors = refusal(exc, place_rule_problem)
        note_refusal(viewer, errors)
        version = form.get("base_version", "")
        return _form(viewer, values=form, rule_id=rule_id, version=version, errors=errors)
    return change_applied(viewer, result, current_path=PATH, what="rule")


@post("/admin/rules", include_in_schema=False, status_code=200, opt=audited("policy.rules.add"))
async def add_rule(viewer: NamedDependency[Viewer]) -> Template:
    return await _change(viewer, "policy.rules.add", None)


@post(
    "/admin/rules/{rule_id:str}",
    include_in_schema=False,
    status_code=200,
    opt=audited("policy.rules.replace"),
)
async def replace_rule(viewer: NamedDependency[Viewer], rule_id: FromPath[str]) -> Template:
    return await _change(viewer, "policy.rules.replace", rule_id)


@post(
    "/admin/rules/{rule_id:str}/remove",
    include_in_schema=False,
    status_code=200,
    opt=audited("policy.rules.remove"),
)
async def remove_rule(viewer: NamedDependency[Viewer], rule_id: FromPath[str]) -> Template:
    call = admin_call(viewer, "policy.rules.remove")
    with refused_as_page():
        result = await policy_admin.remove_rule(
            call, rule_id, json_body(change_options(viewer.form)), {}
        )
    return change_applied(viewer, result, current_path=PATH, what="rule")
