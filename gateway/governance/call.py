"""Step 1–3 of every data call: authenticate, check the purpose, take the field plan."""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from gateway.access.authentication import Principal
from gateway.compliance.request_audit import RequestAudit
from gateway.governance.plans import EntityView, ExecutablePlan
from gateway.http.errors import BadRequest, FieldProblem, Forbidden, NotAuthenticated
from gateway.http.headers import ON_BEHALF_OF, HeaderSource, parse_on_behalf_of, single_header
from gateway.state import GatewayState, PolicySnapshot
from policies.purposes import Purpose


@dataclass(frozen=True, slots=True)
class GovernedCall:
    state: GatewayState
    snapshot: PolicySnapshot
    principal: Principal
    purpose: Purpose
    plan: ExecutablePlan
    audit: RequestAudit
    export_token: str | None = field(default=None, repr=False)
    """`X-Export-Token`: an approved export's single-use token (gateway.approvals)."""

    def view(self, entity: str) -> EntityView:
        return self.plan.view(entity)

    def governance(self, entity: str) -> dict[str, object]:
        return {
            "purpose": self.purpose.id,
            "policy_version": self.plan.version,
            "fields": dict(self.view(entity).governance),
        }


def authenticate(
    state: GatewayState, headers: HeaderSource, audit: RequestAudit
) -> tuple[PolicySnapshot, Principal]:
    # The snapshot is taken once: the whole request runs under this policy version.
    snapshot = state.snapshot
    # Even a refused key was judged under this version's directory: the entry says so.
    audit.policy_version = snapshot.version
    authorization = single_header(headers, "Authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        msg = "send the API key as `Authorization: Bearer <key>`"
        raise NotAuthenticated(msg, reason="missing_api_key")
    principal = snapshot.directory.authenticate(token.strip())
    if principal is None:
        msg = "the API key is not valid"
        raise NotAuthenticated(msg, reason="invalid_api_key")
    audit.principal_id = principal.id
    structlog.contextvars.bind_contextvars(principal=principal.id)
    return snapshot, principal


def _on_behalf_of(headers: HeaderSource, principal: Principal) -> str | None:
    raw = single_header(headers, ON_BEHALF_OF)
    if raw is None:
        if principal.require_on_behalf_of:
            msg = f"principal {principal.id!r} must name its end user in {ON_BEHALF_OF}"
            raise BadRequest(
                msg,
                reason="on_behalf_of_required",
                errors=(FieldProblem(ON_BEHALF_OF, "required"),),
            )
        return None
    return parse_on_behalf_of(raw)


def begin_call(
    state: GatewayState,
    headers: HeaderSource,
    audit: RequestAudit,
    *,
    action: str,
    entity: str | None,
) -> GovernedCall:
    audit.action = action
    audit.entity = entity
    snapshot, principal = authenticate(state, headers, audit)
    audit.on_behalf_of = _on_behalf_of(headers, principal)
    purpose_id = single_header(headers, "X-Purpose")
    if not purpose_id:
        msg = "declare the purpose of this call in the X-Purpose header"
        raise BadRequest(msg, reason="missing_purpose")
    purpose = snapshot.document.purposes.get(purpose_id)
    if purpose is None:
        msg = "X-Purpose names a purpose that the policy does not declare"
        raise BadRequest(msg, reason="unknown_purpose")
    audit.purpose = purpose.id
    audit.legal_basis = purpose.legal_basis.value
    if purpose.id not in principal.purposes:
        msg = f"principal {principal.id!r} may not process data for purpose {purpose.id!r}"
        raise Forbidden(msg, reason="purpose_not_allowed")
    structlog.contextvars.bind_contextvars(purpose=purpose.id)
    plan = state.binder.plan(snapshot.engine, principal.roles, purpose.id)
    return GovernedCall(
        state=state,
        snapshot=snapshot,
        principal=principal,
        purpose=purpose,
        plan=plan,
        audit=audit,
        export_token=single_header(headers, "X-Export-Token"),
    )
