"""The DSR use cases from the command line: the same code as the API, as a governed
call whose rights come from policy — those of a role (`--role`, `dpo` by default) under
the `data_subject_request` purpose — and whose one audit entry is the command's
(`cli:<os user>`, written through `cli_door`)."""

from __future__ import annotations

from audit import Outcome
from gateway.access.authentication import Principal
from gateway.compliance.entries import cli_principal
from gateway.compliance.request_audit import RequestAudit
from gateway.governance.call import GovernedCall
from gateway.http.errors import Forbidden, GatewayError
from gateway.state import GatewayState

DSR_PURPOSE = "data_subject_request"


def cli_call(state: GatewayState, audit: RequestAudit, role: str, purpose: str) -> GovernedCall:
    snapshot = state.snapshot
    audit.policy_version = snapshot.version
    # The use case appends the entry with its status; the outcome follows from it.
    audit.outcome = None
    document = snapshot.document
    found = document.purposes.get(purpose)
    if role not in document.roles or found is None:
        msg = f"the policy in force has no role {role!r} or no purpose {purpose!r}"
        raise Forbidden(msg, reason="unknown_role")
    audit.purpose = found.id
    audit.legal_basis = found.legal_basis.value
    principal = Principal(
        id=cli_principal(), roles=frozenset({role}), purposes=frozenset({found.id})
    )
    plan = state.binder.plan(snapshot.engine, principal.roles, found.id)
    return GovernedCall(
        state=state,
        snapshot=snapshot,
        principal=principal,
        purpose=found,
        plan=plan,
        audit=audit,
    )


def outcome_of(error: GatewayError) -> Outcome:
    if error.status in (401, 403):
        return Outcome.DENIED
    return Outcome.INVALID if error.status < 500 else Outcome.FAILED
