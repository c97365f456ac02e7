"""Policy administration API: parse the request, hand it to the policy pipeline."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath

from gateway.compliance.request_audit import request_audit
from gateway.governance.call import GovernedCall, begin_call
from gateway.http.json_body import read_body
from gateway.policy import admin as policy
from gateway.policy import explain as policy_explain
from gateway.state import GatewayState

AnyRequest = Request[Any, Any, Any]
Json = dict[str, object]


def _admin(request: AnyRequest, action: str) -> GovernedCall:
    state: GatewayState = request.app.state.gateway
    call = begin_call(
        state,
        request.headers,
        request_audit(request.scope["state"]),
        action=action,
        entity="policy",
    )
    policy.require_admin(call)
    return call


def _created(content: Json) -> Response[Json]:
    return Response(content, status_code=201)


def _query(request: AnyRequest) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


class PolicyController(Controller):
    path = "/v1/policy"
    tags = ["policy"]  # noqa: RUF012 - Litestar declares it as a plain attribute

    # --- roles ---
    @get("/roles", summary="Roles of the newest policy version")
    async def list_roles(self, request: AnyRequest) -> Json:
        return await policy.list_roles(_admin(request, "policy.roles.list"))

    @post("/roles", summary="Create a role (new policy version)")
    async def create_role(self, request: AnyRequest) -> Response[Json]:
        call = _admin(request, "policy.roles.create")
        return _created(await policy.create_role(call, await read_body(request)))

    @delete("/roles/{name:str}", summary="Delete a role and its rules", status_code=200)
    async def delete_role(self, request: AnyRequest, name: FromPath[str]) -> Json:
        call = _admin(request, "policy.roles.delete")
        return await policy.delete_role(call, name, await read_body(request), _query(request))

    # --- principals and keys ---
    @get("/principals", summary="Principals, their roles, purposes and keys (never a key)")
    async def list_principals(self, request: AnyRequest) -> Json:
        return await policy.list_principals(_admin(request, "policy.principals.list"))

    @post("/principals", summary="Create a principal (new policy version)")
    async def create_principal(self, request: AnyRequest) -> Response[Json]:
        call = _admin(request, "policy.principals.create")
        return _created(await policy.create_principal(call, await read_body(request)))

    @patch("/principals/{pid:str}", summary="Change a principal's roles, purposes or description")
    async def update_principal(self, request: AnyRequest, pid: FromPath[str]) -> Json:
        call = _admin(request, "policy.principals.update")
        return await policy.update_principal(call, pid, await read_body(request))

    @delete(
        "/principals/{pid:str}", summary="Delete a principal; revokes its keys", status_code=200
    )
    async def delete_principal(self, request: AnyRequest, pid: FromPath[str]) -> Json:
        call = _admin(request, "policy.principals.delete")
        return await policy.delete_principal(call, pid, await read_body(request), _query(request))

    @post("/principals/{pid:str}/keys", summary="Issue an API key, shown once")
    async def issue_key(self, request: AnyRequest, pid: FromPath[str]) -> Response[Json]:
        return _created(await policy.issue_api_key(_admin(request, "policy.keys.issue"), pid))

    @delete("/keys/{key_id:str}", summary="Revoke an API key, at once", status_code=200)
    async def revoke_key(self, request: AnyRequest, key_id: FromPath[str]) -> Json:
        return await policy.revoke(_admin(request, "policy.keys.revoke"), key_id)

    # --- rules ---
    @get("/rules", summary="Field and API rules (filter by role, purpose)")
    async def list_rules(self, request: AnyRequest) -> Json:
        return await policy.list_rules(_admin(request, "policy.rules.list"), _query(request))

    @post("/rules", summary="Add a rule (new policy version)")
    async def add_rule(self, request: AnyRequest) -> Response[Json]:
        call = _admin(request, "policy.rules.add")
        return _created(await policy.add_rule(call, await read_body(request)))

    @delete("/rules/{rule_id:str}", summary="Remove a rule by its id", status_code=200)
    async def remove_rule(self, request: AnyRequest, rule_id: FromPath[str]) -> Json:
        call = _admin(request, "policy.rules.remove")
        return await policy.remove_rule(call, rule_id, await read_body(request), _query(request))

    # --- purposes ---
    @get("/purposes", summary="Purposes of processing")
    async def list_purposes(self, request: AnyRequest) -> Json:
        return await policy.list_purposes(_admin(request, "policy.purposes.list"))

    @post("/purposes", summary="Declare a purpose (new policy version)")
    async def create_purpose(self, request: AnyRequest) -> Response[Json]:
        call = _admin(request, "policy.purposes.create")
        return _created(await policy.create_purpose(call, await read_body(request)))

    @patch("/purposes/{purpose_id:str}", summary="Change a purpose (new policy version)")
    async def update_purpose(self, request: AnyRequest, purpose_id: FromPath[str]) -> Json:
        call = _admin(request, "policy.purposes.update")
        return await policy.update_purpose(call, purpose_id, await read_body(request))

    # --- versions ---
    @get("/versions", summary="Every policy version, newest first")
    async def versions(self, request: AnyRequest) -> Json:
        return await policy.versions(_admin(request, "policy.versions.list"))

    @get("/versions/{version:int}", summary="One policy version and its document")
    async def version(self, request: AnyRequest, version: FromPath[int]) -> Json:
        return await policy.version(_admin(request, "policy.versions.read"), version)

    @get("/versions/{first:int}/diff/{second:int}", summary="What changed from one to another")
    async def diff(self, request: AnyRequest, first: FromPath[int], second: FromPath[int]) -> Json:
        return await policy.diff(_admin(request, "policy.versions.diff"), first, second)

    @post(
        "/rollback/{version:int}", summary="A new version equal to an earlier one", status_code=200
    )
    async def rollback(self, request: AnyRequest, version: FromPath[int]) -> Json:
        call = _admin(request, "policy.rollback")
        return await policy.rollback(call, version, await read_body(request))

    # --- explain ---
    @post("/explain", summary="Per field: effect, deciding rule, consent, reason", status_code=200)
    async def explain(self, request: AnyRequest) -> Json:
        # Policy admins and compliance officers (for one customer) explain: see the module.
        call = begin_call(
            request.app.state.gateway,
            request.headers,
            request_audit(request.scope["state"]),
            action="policy.explain",
            entity="policy",
        )
        policy_explain.require_explain_right(call)
        return await policy_explain.explain_decision(call, await read_body(request))
