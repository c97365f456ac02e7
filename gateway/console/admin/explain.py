"""Explain: a principal, a purpose and optionally a customer id -> per field the effect,
the deciding rule and, for a customer, the consent state. The answer is the policy
API's own (`gateway.policy.explain`, action `policy.explain`), with its separation of
duties: a security admin explains the policy; explaining it for one customer reads that
person's consent and age, which is the compliance officer's question (403
`customer_facts_not_allowed` for the admin, shown beside the customer id)."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import get, post
from litestar.di import NamedDependency
from litestar.response import Template

from gateway.console.admin.access import note_refusal
from gateway.console.admin.forms import FormErrors, json_body, refusable, refusal
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer
from gateway.http.errors import GatewayError
from gateway.policy import explain as policy_explain

PATH = "/console/explain"
FIELDS = ("principal", "purpose", "customer_id")


def question(form: Mapping[str, str]) -> dict[str, object]:
    """The body of `POST /v1/policy/explain` (a principal, not a set of roles)."""
    asked: dict[str, object] = {
        name: value for name in FIELDS if (value := form.get(name, "").strip())
    }
    # The principal is required on this form; the use case calls it `principal_or_roles`.
    return asked if "principal" in asked else asked | {"principal": ""}


def _page(
    viewer: Viewer,
    *,
    values: Mapping[str, str],
    answer: Mapping[str, object] | None = None,
    errors: FormErrors | None = None,
) -> Template:
    document = viewer.snapshot.document
    return page(
        "admin/explain.html",
        viewer,
        status=errors.status if errors else 200,
        values=values,
        answer=answer,
        errors=errors or FormErrors(),
        principals=sorted(document.principals),
        purposes=sorted(document.purposes),
        current_path=PATH,
    )


@get("/explain", include_in_schema=False, opt=audited("console.explain_form"))
async def explain_form(viewer: NamedDependency[Viewer]) -> Template:
    policy_explain.require_explain_right(viewer.call("console.explain_form"))
    return _page(viewer, values={})


@post("/explain", include_in_schema=False, status_code=200, opt=audited("policy.explain"))
async def explain(viewer: NamedDependency[Viewer]) -> Template:
    call = viewer.call("policy.explain", "policy")
    # Who may ask comes before what is asked (403 before any field is read).
    policy_explain.require_explain_right(call)
    form = viewer.form
    try:
        answer = await policy_explain.explain_decision(call, json_body(question(form)))
    except GatewayError as exc:
        if not refusable(exc):
            raise
        errors = refusal(exc)
        note_refusal(viewer, errors)
        return _page(viewer, values=form, errors=errors)
    return _page(viewer, values=form, answer=answer)
