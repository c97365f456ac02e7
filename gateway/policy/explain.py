"""`POST /v1/policy/explain`: why a principal (or a set of roles) sees each field as it does.

Body: `{"principal": id | "roles": [...], "purpose": id, "customer_id"?: id}`. The answer
comes from `policies.explain` on the policy version in force in this process. It holds
effects, rules, consent conditions and reasons — never a field value.

Separation of duties: without `customer_id` the answer holds no fact about any customer
(per field the effect and the consent conditions that change it), which a security
admin (`policy:admin`) may ask. With `customer_id` it holds that person's consent state
and whether they are a minor: a compliance officer's question (`audit:read`), loaded as
a read loads it, and the customer becomes the subject of the audit entry. A security
admin naming a customer gets 403 `customer_facts_not_allowed`.
"""

from __future__ import annotations

from typing import Any

from gateway.consents.facts import customer_consent_facts
from gateway.governance.call import GovernedCall
from gateway.http.errors import FieldProblem, Forbidden, NotFound, Unprocessable
from gateway.http.json_body import RequestBody
from gateway.policy.bodies import MAX_NAME, body_of
from masking import default_mask_for
from policies.explain import explain

_KEYS = ("principal", "roles", "purpose", "customer_id")
POLICY_RIGHT = "policy:admin"
CUSTOMER_FACTS_RIGHT = "audit:read"


def require_explain_right(call: GovernedCall) -> None:
    """Before the question is read: only policy admins and compliance officers explain."""
    rights = call.plan.policy.api_rights
    if POLICY_RIGHT not in rights and CUSTOMER_FACTS_RIGHT not in rights:
        msg = f"your roles may not explain policy decisions for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="explain_not_allowed")


def _require_customer_facts_right(call: GovernedCall) -> None:
    if CUSTOMER_FACTS_RIGHT not in call.plan.policy.api_rights:
        msg = (
            "explaining a decision for one customer reads that customer's consent and age: "
            "ask a compliance officer, or leave out customer_id"
        )
        raise Forbidden(
            msg,
            reason="customer_facts_not_allowed",
            errors=(FieldProblem("customer_id", "customer_facts_not_allowed"),),
        )


def _question(raw: RequestBody) -> tuple[str | None, frozenset[str] | None, str, str | None]:
    body = body_of(raw)
    problems = [FieldProblem(key, "unknown_field") for key in body if key not in _KEYS]

    def text(key: str) -> str | None:
        value = body.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME or not value.isprintable():
            problems.append(FieldProblem(key, "invalid_text"))
            return None
        return value

    principal, purpose, customer_id = text("principal"), text("purpose"), text("customer_id")
    roles_raw: Any = body.get("roles")
    roles: frozenset[str] | None = None
    if roles_raw is not None:
        if isinstance(roles_raw, list) and all(isinstance(r, str) and r for r in roles_raw):
            roles = frozenset(roles_raw)
        else:
            problems.append(FieldProblem("roles", "invalid_list"))
    if ("principal" in body) == ("roles" in body):
        problems.append(FieldProblem("principal", "principal_or_roles"))
    if "purpose" not in body:
        problems.append(FieldProblem("purpose", "required"))
    if problems:
        names = ", ".join(p.field for p in problems)
        msg = f"invalid request body: {names}"
        raise Unprocessable(msg, reason=problems[0].reason, errors=tuple(problems))
    return principal, roles, purpose or "", customer_id


async def explain_decision(call: GovernedCall, raw: RequestBody) -> dict[str, object]:
    require_explain_right(call)
    principal_id, roles, purpose, customer_id = _question(raw)
    if customer_id is not None:
        _require_customer_facts_right(call)
    snapshot = call.snapshot
    document = snapshot.document
    if purpose not in document.purposes:
        msg = "the purpose is not declared by the policy in force"
        problem = FieldProblem("purpose", "unknown_purpose")
        raise Unprocessable(msg, reason="unknown_purpose", errors=(problem,))
    answer: dict[str, object] = {}
    if principal_id is not None:
        spec = document.principals.get(principal_id)
        if spec is None:
            msg = "the policy in force names no such principal"
            raise NotFound(msg)
        roles = spec.roles
        allowed = purpose in spec.purposes
        answer["principal"] = principal_id
        answer["purpose_allowed"] = allowed
        if not allowed:
            # What a request would get: refused before any field is considered.
            answer["refused"] = "purpose_not_allowed"
    facts = None
    if customer_id is not None:
        facts = await customer_consent_facts(
            call.state.db, call.state.protector, customer_id, purpose
        )
        call.audit.record_ids = call.audit.subject_ids = (customer_id,)
    explanation = explain(
        snapshot.engine,
        roles or frozenset(),
        purpose,
        consent=facts,
        default_mask=default_mask_for,
    )
    return answer | explanation.to_json()
