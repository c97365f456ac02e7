"""Step 1–3 of every data call: authenticate, check the purpose, take the field plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from gateway.access.authentication import Principal
from gateway.compliance.request_audit import RequestAudit
from gateway.governance.plans import EntityView, ExecutablePlan
from gateway.http.errors import BadRequest, Forbidden, NotAuthenticated
from gateway.state import GatewayState, PolicySnapshot
from policies.purposes import Purpose

_MAX_ON_BEHALF_OF = 128


@dataclass(frozen=True, slots=True)
class GovernedCall:
    state: GatewayState
    snapshot: PolicySnapshot
    principal: Principal
    purpose: Purpose
    plan: ExecutablePlan
    audit: RequestAudit

    def view(self, entity: str) -> EntityView:
        return self.plan.view(entity)

    def governance(self, entity: str) -> dict[str, object]:
        return {
            "purpose": self.purpose.id,
            "policy_version": self.plan.version,
            "fields": dict(self.view(entity).governance),
        }


def authenticate(
    state: GatewayState, headers: Mapping[str, str], audit: RequestAudit
) -> tuple[PolicySnapshot, Principal]:
    # The snapshot is taken once: the whole request runs under this policy version.
    snapshot = state.snapshot
    # Even a refused key was judged under this version's directory: the entry says so.
    audit.policy_version = snapshot.version
    authorization = headers.get("authorization", "")
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


def _on_behalf_of(headers: Mapping[str, str]) -> str | None:
    value = headers.get("x-on-behalf-of")
    if value is None:
        return None
    if not value or len(value) > _MAX_ON_BEHALF_OF or not value.isprintable():
        msg = f"X-On-Behalf-Of must be 1-{_MAX_ON_BEHALF_OF} printable characters"
        raise BadRequest(msg, reason="invalid_on_behalf_of")
    return value


def begin_call(
    state: GatewayState,
    headers: Mapping[str, str],
    audit: RequestAudit,
    *,
    action: str,
    entity: str | None,
) -> GovernedCall:
    audit.action = action
    audit.entity = entity
    snapshot, principal = authenticate(state, headers, audit)
    audit.on_behalf_of = _on_behalf_of(headers)
    purpose_id = headers.get("x-purpose")
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
    )
