"""The policy administration pipeline: who may, what the change is, apply, reload.

Only principals whose plan holds `policy:admin` (the `security_admin` role under purpose
`policy_admin` in the default policy) get past `require_admin`. Every change goes
through the one change service (`gateway.policy`), which reviews it, stores a
new version with its diff and audits it in one transaction; this process then reloads
at once, while requests already running finish under the snapshot they started with.
Reads show the newest stored version, which other processes may not have loaded yet.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypedDict

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.access.api_keys import (
    KEY_ID,
    issue_api_key_for,
    list_api_keys,
    revoke_api_key,
    revoke_api_keys_of,
)
from gateway.compliance.request_audit import RequestAudit
from gateway.governance.call import GovernedCall
from gateway.http.errors import BadRequest, Forbidden
from gateway.http.json_body import RequestBody
from gateway.policy import bodies as body
from gateway.policy import edits
from gateway.policy.change_service import (
    AppliedChange,
    Edit,
    EngineFor,
    InTransaction,
    apply_policy_change,
    rollback_policy,
)
from gateway.policy.errors import (
    PolicyTargetNotFound,
)
from gateway.policy.history import list_versions, version_row
from gateway.policy.store import latest_policy_or_none
from policies.diff import diff_documents
from policies.document import PolicyDocument, parse_policy_document
from policies.plan import PolicyEngine

ADMIN_RIGHT = "policy:admin"
log = structlog.get_logger("wardgate.policy")


def engine_for(call: GovernedCall) -> EngineFor:
    """The request's own engine when the newest stored version is the one it runs under
    (plans of principals with keys are compiled already); a new engine otherwise."""
    snapshot = call.snapshot

    def engine(version: int, document: PolicyDocument) -> PolicyEngine:
        if version == snapshot.version:
            return snapshot.engine
        return PolicyEngine(document, call.state.catalog, version)

    return engine


def require_admin(call: GovernedCall) -> None:
    if ADMIN_RIGHT not in call.plan.policy.api_rights:
        msg = f"your roles may not administer policy for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="policy_admin_not_allowed")


class _CallerChange(TypedDict):
    base_version: int | None
    author: str
    comment: str
    audit: RequestAudit
    acknowledged: Collection[str]
    actor: str
    engine_for: EngineFor


async def _newest(call: GovernedCall) -> tuple[int, PolicyDocument]:
    async with call.state.db.reader.connect() as conn:
        latest = await latest_policy_or_none(conn)
    if latest is None:  # the gateway does not start without a policy
        msg = "the store holds no policy version"
        raise PolicyTargetNotFound(msg)
    return latest


async def _apply(
    call: GovernedCall,
    change: Edit | PolicyDocument,
    options: body.ChangeOptions,
    *,
    status: int = 200,
    in_transaction: InTransaction | None = None,
) -> dict[str, object]:
    applied = await apply_policy_change(
        call.state.db,
        call.state.catalog,
        change=change,
        in_transaction=in_transaction,
        status=status,
        **_as_caller(call, options),
    )
    return await _after_change(call, applied, options)


def _as_caller(call: GovernedCall, options: body.ChangeOptions) -> _CallerChange:
    """What every change through the API says about who makes it and on what base."""
    return {
        "base_version": options.base_version,
        "author": call.principal.id,
        "comment": options.comment,
        "audit": call.audit,
        "acknowledged": options.acknowledge,
        "actor": call.principal.id,
        "engine_for": engine_for(call),
    }


async def reload_now(call: GovernedCall) -> None:
    """Put the newest version (and keys) in force in this process for the next request.

    The change is committed and audited by now; if reloading fails, the caller is still
    told what was stored, and the next reload (periodic, or by the next change) applies it.
    """
    try:
        await call.state.reload_policy()
    except SQLAlchemyError as exc:
        log.warning("policy reload after a change failed", error_type=type(exc).__name__)


async def _after_change(
    call: GovernedCall, applied: AppliedChange, options: body.ChangeOptions
) -> dict[str, object]:
    # In force in this process at once; other processes pick it up by their reload.
    await reload_now(call)
    return applied.to_json() | {
        "author": call.principal.id,
        "comment": options.comment,
        "text": applied.diff.lines(),
    }


# --- reads ---------------------------------------------------------------------------


async def list_roles(call: GovernedCall) -> dict[str, object]:
    version, document = await _newest(call)
    return {
        "version": version,
        "roles": [
            {
                "name": name,
                "description": description,
                "rules": sum(1 for rule in document.rules if rule.role == name),
                "parents": [p for c, p in document.role_parents if c == name],
            }
            for name, description in document.roles.items()
        ],
    }


async def list_principals(call: GovernedCall) -> dict[str, object]:
    version, document = await _newest(call)
    async with call.state.db.reader.connect() as conn:
        keys = await list_api_keys(conn)
    by_owner: dict[str, list[dict[str, object]]] = {}
    for key in keys:
        by_owner.setdefault(key.principal_id, []).append(key.to_json())
    return {
        "version": version,
        "principals": [
            spec.to_document() | {"id": pid, "keys": by_owner.get(pid, [])}
            for pid, spec in document.principals.items()
        ],
    }


def _rule_json(rule: Any) -> dict[str, object]:
    return {
        "id": edits.rule_id(rule),
        "role": rule.role,
        "purpose": rule.purpose,
        "target": rule.target,
        "action": rule.action,
        "effect": rule.effect.value,
    }


async def list_rules(call: GovernedCall, query: Mapping[str, str]) -> dict[str, object]:
    version, document = await _newest(call)
    wanted = {k: query[k] for k in ("role", "purpose") if k in query}
    return {
        "version": version,
        "rules": [
            _rule_json(rule)
            for rule in document.rules
            if all(getattr(rule, k) == v for k, v in wanted.items())
        ],
    }


async def list_purposes(call: GovernedCall) -> dict[str, object]:
    version, document = await _newest(call)
    return {
        "version": version,
        "purposes": {pid: p.to_document() for pid, p in document.purposes.items()},
    }


async def versions(call: GovernedCall) -> dict[str, object]:
    async with call.state.db.reader.connect() as conn:
        infos = await list_versions(conn)
    return {
        "in_force": call.snapshot.version,
        "versions": [info.to_json() for info in infos],
    }


async def _version(call: GovernedCall, version: int) -> dict[str, Any]:
    async with call.state.db.reader.connect() as conn:
        row = await version_row(conn, version)
    if row is None:
        msg = f"there is no policy version {version}"
        raise PolicyTargetNotFound(msg)
    return row


async def version(call: GovernedCall, version: int) -> dict[str, object]:
    row = await _version(call, version)
    return {
        "version": row["version"],
        "created_at": row["created_at"],
        "author": row["author"],
        "comment": row["comment"],
        "diff": row["diff"],
        "document": parse_policy_document(row["document"]).to_document(),
    }


async def diff(call: GovernedCall, first: int, second: int) -> dict[str, object]:
    before = parse_policy_document((await _version(call, first))["document"])
    after = parse_policy_document((await _version(call, second))["document"])
    changes = diff_documents(before, after)
    return {"from": first, "to": second, "diff": changes.to_json(), "text": changes.lines()}


# --- changes ---------------------------------------------------------------------------


async def create_role(call: GovernedCall, raw: RequestBody) -> dict[str, object]:
    name, description, options = body.role_body(raw)
    return await _apply(call, edits.add_role(name, description), options, status=201)


async def delete_role(
    call: GovernedCall, name: str, raw: RequestBody, query: Mapping[str, str]
) -> dict[str, object]:
    return await _apply(call, edits.delete_role(name), body.options_only(raw, query))


async def create_principal(call: GovernedCall, raw: RequestBody) -> dict[str, object]:
    pid, spec, options = body.principal_body(raw)
    return await _apply(call, edits.add_principal(pid, spec), options, status=201)


async def update_principal(call: GovernedCall, pid: str, raw: RequestBody) -> dict[str, object]:
    update, options = body.principal_update_body(raw)
    edit = edits.update_principal(
        pid,
        roles=update.roles,
        purposes=update.purposes,
        description=update.description,
        require_on_behalf_of=update.require_on_behalf_of,
    )
    return await _apply(call, edit, options)


async def delete_principal(
    call: GovernedCall, pid: str, raw: RequestBody, query: Mapping[str, str]
) -> dict[str, object]:
    """Its keys are revoked in the same transaction: a rollback that brings the
    principal back does not bring its keys back."""
    if pid == call.principal.id:
        msg = "a principal may not delete itself"
        raise Forbidden(msg, reason="self_delete")

    async def revoke(conn: AsyncConnection, _version: int) -> Mapping[str, str]:
        return await revoke_api_keys_of(conn, pid)

    options = body.options_only(raw, query)
    return await _apply(call, edits.delete_principal(pid), options, in_transaction=revoke)


async def add_rule(call: GovernedCall, raw: RequestBody) -> dict[str, object]:
    rule, options = body.rule_body(raw)
    result = await _apply(call, edits.add_rule(rule), options, status=201)
    return result | {"rule": _rule_json(rule)}


async def replace_rule(call: GovernedCall, rule_id: str, raw: RequestBody) -> dict[str, object]:
    """Edit a rule: the body of `add_rule`, replacing the rule `rule_id` in one version."""
    rule, options = body.rule_body(raw)
    result = await _apply(call, edits.replace_rule(rule_id, rule), options)
    return result | {"rule": _rule_json(rule), "replaced": rule_id}


async def remove_rule(
    call: GovernedCall, rule_id: str, raw: RequestBody, query: Mapping[str, str]
) -> dict[str, object]:
    return await _apply(call, edits.remove_rule(rule_id), body.options_only(raw, query))


async def create_purpose(call: GovernedCall, raw: RequestBody) -> dict[str, object]:
    purpose, options = body.purpose_body(raw, purpose_id=None, current=None)
    return await _apply(call, edits.put_purpose(purpose, create=True), options, status=201)


async def update_purpose(
    call: GovernedCall, purpose_id: str, raw: RequestBody
) -> dict[str, object]:
    _, document = await _newest(call)
    current = document.purposes.get(purpose_id)
    if current is None:
        msg = f"there is no purpose {purpose_id!r} in the newest policy version"
        raise PolicyTargetNotFound(msg)
    purpose, options = body.purpose_body(raw, purpose_id=purpose_id, current=current)
    return await _apply(call, edits.put_purpose(purpose, create=False), options)


async def rollback(call: GovernedCall, version: int, raw: RequestBody) -> dict[str, object]:
    options = body.options_only(raw)
    applied = await rollback_policy(
        call.state.db,
        call.state.catalog,
        version=version,
        **_as_caller(call, options),
    )
    return await _after_change(call, applied, options) | {"rolled_back_to": version}


# --- keys --------------------------------------------------------------------------------


async def issue_api_key(call: GovernedCall, pid: str) -> dict[str, object]:
    """Only for principals that reach no customer data and no audit log (see
    `gateway.access.api_keys`); the operator issues the others on the host."""
    issued = await issue_api_key_for(call.state.db, pid, call.audit, engine_for(call))
    await reload_now(call)
    return {
        "key_id": issued.key_id,
        "principal": issued.principal_id,
        # Shown this once; only its SHA-256 is stored.
        "key": issued.key,
    }


async def revoke(call: GovernedCall, key_id: str) -> dict[str, object]:
    """Any principal's key: revoking only takes access away (see `revoke_api_key`)."""
    if KEY_ID.fullmatch(key_id) is None:
        msg = "a key id is 1 to 32 ASCII letters and digits"
        raise BadRequest(msg, reason="invalid_key_id")
    info = await revoke_api_key(call.state.db, key_id, call.audit)
    # Refused from the next request on in this process.
    await reload_now(call)
    return info.to_json()
