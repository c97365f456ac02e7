"""`POST /v1/policy/explain`: why a principal (or a set of roles) sees each field as it does.

Body: `{"principal": id | "roles": [...], "purpose": id, "customer_id"?: id}`. The answer
comes from `policies.explain` on the policy version in force in this process, with the
customer's consent facts loaded as a read loads them. It holds effects, rules, consent
states and reasons — never a field value. A customer named in the question becomes a
subject of the audit entry: the security admin looked at that person's consent state.
"""

from __future__ import annotations

from typing import Any

from gateway.consents.facts import customer_consent_facts
from gateway.governance.call import GovernedCall
from gateway.http.errors import FieldProblem, NotFound, Unprocessable
from gateway.http.json_body import RequestBody
from gateway.policy.bodies import MAX_NAME, body_of
from masking import default_mask_for
from policies.explain import explain

_KEYS = ("principal", "roles", "purpose", "customer_id")


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
    principal_id, roles, purpose, customer_id = _question(raw)
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
