"""Policy administration API: parse the request, hand it to the policy pipeline.

Every handler takes `admin`: the governed call of a caller that holds `policy:admin`
under its purpose (refused with 403 `policy_admin_not_allowed` before anything else).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter

from gateway.access.api_keys import KEY_ID_PATTERN
from gateway.governance.call import GovernedCall
from gateway.http.dependencies import GovernedCallDependency, RawBody
from gateway.http.operations import NO_BODY, DeclaredBody, Problems, merge, operation
from gateway.http.query import query
from gateway.policy import admin as policy
from gateway.policy import explain as policy_explain
from gateway.policy.bodies import MAX_COMMENT
from gateway.policy.schemas import (
    ChangeOptions,
    ExplainQuestion,
    PrincipalCreate,
    PrincipalUpdate,
    PurposeCreate,
    PurposeUpdate,
    RoleCreate,
    RuleCreate,
)

Json = dict[str, object]

_REVIEW = (
    "invalid_policy",
    "invalid_role_name",
    "invalid_principal_id",
    "unknown_role",
    "unknown_purpose",
    "unknown_category",
    "unknown_field",
    "unknown_operator",
    "unknown_action",
    "separation_of_duties",
    "sensitive_clear_unacknowledged",
    "last_policy_admin",
)
_BODY = (
    "unknown_field",
    "required",
    "invalid_text",
    "invalid_list",
    "invalid_base_version",
)
_CHANGE: Problems = {
    403: ("self_grant", "separation_of_duties"),
    409: ("version_conflict", "no_change"),
    422: (*_BODY, *_REVIEW),
}
_CREATE = merge(_CHANGE, {409: ("already_exists",)})
_EXISTING = merge(_CHANGE, {404: ("not_found",)})


def provide_admin(call: GovernedCallDependency) -> GovernedCall:
    policy.require_admin(call)
    return call


_ADMIN: Problems = {403: ("policy_admin_not_allowed",)}


def _admin_op(action: str, *, problems: Problems | None = None, **kwargs: Any) -> dict[str, Any]:
    return operation(action, "policy", problems=merge(_ADMIN, problems or {}), **kwargs)


_OPTIONAL_OPTIONS = DeclaredBody(ChangeOptions, required=False)
Comment = Annotated[
    str | None,
    query(
        "Why (for DELETE, instead of a body); kept with the version.",
        maxLength=MAX_COMMENT,
    ),
]
BaseVersion = Annotated[
    str | None,
    query(
        "The version this change was prepared against (for DELETE, instead of a body); "
        "409 if a newer one exists.",
        type="integer",
        minimum=1,
    ),
]


def _options_query(comment: str | None, base_version: str | None) -> dict[str, str]:
    return {
        name: value
        for name, value in (("comment", comment), ("base_version", base_version))
        if value is not None
    }


class PolicyController(Controller):
    path = "/v1/policy"
    tags = ["policy"]  # noqa: RUF012 - Litestar declares it as a plain attribute
    dependencies = {"admin": Provide(provide_admin, sync_to_thread=False)}  # noqa: RUF012

    # --- roles ---
    @get("/roles", summary="Roles of the newest policy version", opt=_admin_op("policy.roles.list"))
    async def list_roles(self, admin: GovernedCallDependency) -> Json:
        return await policy.list_roles(admin)

    @post(
        "/roles",
        summary="Create a role (new policy version)",
        opt=_admin_op("policy.roles.create", body=RoleCreate, problems=_CREATE),
    )
    async def create_role(
        self, admin: GovernedCallDependency, raw_body: NamedDependency[RawBody]
    ) -> Response[Json]:
        return _created(await policy.create_role(admin, await raw_body.read()))

    @delete(
        "/roles/{name:str}",
        summary="Delete a role and its rules",
        status_code=200,
        opt=_admin_op("policy.roles.delete", body=_OPTIONAL_OPTIONS, problems=_EXISTING),
    )
    async def delete_role(
        self,
        admin: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        name: FromPath[str],
        comment: Comment = None,
        base_version: BaseVersion = None,
    ) -> Json:
        options = _options_query(comment, base_version)
        return await policy.delete_role(admin, name, await raw_body.read(), options)

    # --- principals and keys ---
    @get(
        "/principals",
        summary="Principals, their roles, purposes and keys (never a key)",
        opt=_admin_op("policy.principals.list"),
    )
    async def list_principals(self, admin: GovernedCallDependency) -> Json:
        return await policy.list_principals(admin)

    @post(
        "/principals",
        summary="Create a principal (new policy version)",
        opt=_admin_op("policy.principals.create", body=PrincipalCreate, problems=_CREATE),
    )
    async def create_principal(
        self, admin: GovernedCallDependency, raw_body: NamedDependency[RawBody]
    ) -> Response[Json]:
        return _created(await policy.create_principal(admin, await raw_body.read()))

    @patch(
        "/principals/{pid:str}",
        summary="Change a principal's roles, purposes or description",
        opt=_admin_op(
            "policy.principals.update",
            body=PrincipalUpdate,
            problems=merge(_EXISTING, {422: ("no_fields",)}),
        ),
    )
    async def update_principal(
        self,
        admin: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        pid: FromPath[str],
    ) -> Json:
        return await policy.update_principal(admin, pid, await raw_body.read())

    @delete(
        "/principals/{pid:str}",
        summary="Delete a principal; revokes its keys",
        status_code=200,
        opt=_admin_op(
            "policy.principals.delete",
            body=_OPTIONAL_OPTIONS,
            problems=merge(_EXISTING, {403: ("self_delete",)}),
        ),
    )
    async def delete_principal(
        self,
        admin: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        pid: FromPath[str],
        comment: Comment = None,
        base_version: BaseVersion = None,
    ) -> Json:
        options = _options_query(comment, base_version)
        return await policy.delete_principal(admin, pid, await raw_body.read(), options)

    @post(
        "/principals/{pid:str}/keys",
        summary="Issue an API key, shown once",
        opt=_admin_op(
            "policy.keys.issue",
            body=NO_BODY,
            problems={403: ("separation_of_duties",), 404: ("not_found",)},
        ),
    )
    async def issue_key(self, admin: GovernedCallDependency, pid: FromPath[str]) -> Response[Json]:
        return _created(await policy.issue_api_key(admin, pid))

    @delete(
        "/keys/{key_id:str}",
        summary="Revoke an API key, at once",
        status_code=200,
        opt=_admin_op(
            "policy.keys.revoke",
            problems={400: ("invalid_key_id",), 404: ("not_found",), 409: ("key_revoked",)},
        ),
    )
    async def revoke_key(
        self,
        admin: GovernedCallDependency,
        # Documentation only: the pipeline checks the id after authorization.
        key_id: Annotated[str, Parameter(schema_extra={"pattern": KEY_ID_PATTERN})],
    ) -> Json:
        return await policy.revoke(admin, key_id)

    # --- rules ---
    @get(
        "/rules",
        summary="Field and API rules (filter by role, purpose)",
        opt=_admin_op("policy.rules.list"),
    )
    async def list_rules(
        self,
        admin: GovernedCallDependency,
        role: Annotated[str | None, query("Only the rules of this role.")] = None,
        purpose: Annotated[str | None, query("Only the rules for this purpose.")] = None,
    ) -> Json:
        wanted = {
            name: value
            for name, value in (("role", role), ("purpose", purpose))
            if value is not None
        }
        return await policy.list_rules(admin, wanted)

    @post(
        "/rules",
        summary="Add a rule (new policy version)",
        opt=_admin_op(
            "policy.rules.add",
            body=RuleCreate,
            problems=merge(_CREATE, {422: ("invalid_effect", "operator_needs_mask")}),
        ),
    )
    async def add_rule(
        self, admin: GovernedCallDependency, raw_body: NamedDependency[RawBody]
    ) -> Response[Json]:
        return _created(await policy.add_rule(admin, await raw_body.read()))

    @delete(
        "/rules/{rule_id:str}",
        summary="Remove a rule by its id",
        status_code=200,
        opt=_admin_op("policy.rules.remove", body=_OPTIONAL_OPTIONS, problems=_EXISTING),
    )
    async def remove_rule(
        self,
        admin: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        rule_id: FromPath[str],
        comment: Comment = None,
        base_version: BaseVersion = None,
    ) -> Json:
        options = _options_query(comment, base_version)
        return await policy.remove_rule(admin, rule_id, await raw_body.read(), options)

    # --- purposes ---
    @get("/purposes", summary="Purposes of processing", opt=_admin_op("policy.purposes.list"))
    async def list_purposes(self, admin: GovernedCallDependency) -> Json:
        return await policy.list_purposes(admin)

    @post(
        "/purposes",
        summary="Declare a purpose (new policy version)",
        opt=_admin_op(
            "policy.purposes.create",
            body=PurposeCreate,
            problems=merge(_CREATE, {422: ("invalid_purpose",)}),
        ),
    )
    async def create_purpose(
        self, admin: GovernedCallDependency, raw_body: NamedDependency[RawBody]
    ) -> Response[Json]:
        return _created(await policy.create_purpose(admin, await raw_body.read()))

    @patch(
        "/purposes/{purpose_id:str}",
        summary="Change a purpose (new policy version)",
        opt=_admin_op(
            "policy.purposes.update",
            body=PurposeUpdate,
            problems=merge(_EXISTING, {422: ("invalid_purpose",)}),
        ),
    )
    async def update_purpose(
        self,
        admin: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        purpose_id: FromPath[str],
    ) -> Json:
        return await policy.update_purpose(admin, purpose_id, await raw_body.read())

    # --- versions ---
    @get(
        "/versions",
        summary="Every policy version, newest first",
        opt=_admin_op("policy.versions.list"),
    )
    async def versions(self, admin: GovernedCallDependency) -> Json:
        return await policy.versions(admin)

    @get(
        "/versions/{version:int}",
        summary="One policy version and its document",
        opt=_admin_op("policy.versions.read", problems={404: ("not_found",)}),
    )
    async def version(self, admin: GovernedCallDependency, version: FromPath[int]) -> Json:
        return await policy.version(admin, version)

    @get(
        "/versions/{first:int}/diff/{second:int}",
        summary="What changed from one to another",
        opt=_admin_op("policy.versions.diff", problems={404: ("not_found",)}),
    )
    async def diff(
        self, admin: GovernedCallDependency, first: FromPath[int], second: FromPath[int]
    ) -> Json:
        return await policy.diff(admin, first, second)

    @post(
        "/rollback/{version:int}",
        summary="A new version equal to an earlier one",
        status_code=200,
        opt=_admin_op("policy.rollback", body=_OPTIONAL_OPTIONS, problems=_EXISTING),
    )
    async def rollback(
        self,
        admin: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        version: FromPath[int],
    ) -> Json:
        return await policy.rollback(admin, version, await raw_body.read())

    # --- explain ---
    @post(
        "/explain",
        summary="Per field: effect, deciding rule, consent, reason",
        status_code=200,
        opt=operation(
            "policy.explain",
            "policy",
            body=ExplainQuestion,
            problems={
                403: ("explain_not_allowed", "customer_facts_not_allowed"),
                404: ("not_found",),
                410: ("erased",),
                422: (
                    "unknown_field",
                    "invalid_text",
                    "invalid_list",
                    "principal_or_roles",
                    "required",
                    "unknown_purpose",
                ),
            },
        ),
    )
    async def explain(
        self, call: GovernedCallDependency, raw_body: NamedDependency[RawBody]
    ) -> Json:
        # Policy admins and compliance officers (for one customer) explain: see the module.
        policy_explain.require_explain_right(call)
        return await policy_explain.explain_decision(call, await raw_body.read())


def _created(content: Json) -> Response[Json]:
    return Response(content, status_code=201)
