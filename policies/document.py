"""The policy document: what one immutable policy version holds.

A version bundles purposes, roles, field rules and principals (their roles and allowed
purposes) so that a request can run entirely under the version it started with, and a
diff or rollback covers who holds which role as well as what each role may see. API
keys are not part of it: they live in their own table, so a rollback can never bring a
revoked key back. The document is plain data (JSON-serialisable) so it can be stored,
diffed and exported as files.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml

from policies.catalog import Catalog
from policies.errors import PolicyFileError
from policies.purposes import Purpose, parse_purposes

FIELD_ACTIONS = ("write", "lookup", "aggregate")
API_ACTIONS = (
    "audit:read",
    "policy:admin",
    "consent:write",
    "consent:read",
    "consent:evidence",
    "scan",
    "erase",
    "legal_hold:write",
    "legal_hold:read",
    "dsr:file",
    "dsr:handle",
    "console",
    "aggregate",
    "approve_export",
)
# consent:write and consent:read are checked per consent purpose (PolicyPlan.consent_purposes,
# PolicyPlan.consent_readable): target `api:consent` for every purpose, `consent:<purpose>`
# for one. consent:evidence shows the evidence hashes and guardian references.
# legal_hold:write sets and releases legal holds; legal_hold:read reads their history.
# dsr:file files a data subject's request (target `api:dsr`); dsr:handle verifies,
# fulfils, refuses, extends and downloads (the DPO).
# console lets a principal sign in to the web console under that purpose; which screens it
# sees there follows from its other API rights under the same purpose.
# `aggregate` is both: on `api:aggregate` it opens POST /v1/aggregates, and on a data
# category it lets that category be grouped by, filtered on or summed there.
# `approve_export` lets a principal approve or deny another's export request.


class RuleEffect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of policy: role × purpose × target → action, allowed or denied."""

    role: str
    purpose: str
    target: str
    action: str
    effect: RuleEffect = RuleEffect.ALLOW

    def as_casbin(self) -> list[str]:
        return [self.role, self.purpose, self.target, self.action, self.effect.value]

    def to_document(self) -> list[str]:
        if self.effect is RuleEffect.ALLOW:
            return [self.role, self.purpose, self.target, self.action]
        return self.as_casbin()


ROLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
PRINCIPAL_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
"""A principal id: what API keys and audit entries name (at most 64 characters)."""


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """Who a principal is in the policy: its roles and the purposes it may declare."""

    roles: frozenset[str]
    purposes: frozenset[str]
    description: str = ""
    require_on_behalf_of: bool = False
    """Its calls must name their end user (X-On-Behalf-Of), e.g. a desk's agent."""

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "description": self.description,
            "roles": sorted(self.roles),
            "purposes": sorted(self.purposes),
        }
        # Written only when set, so documents stored before the option existed (and
        # their content hashes and diffs) stay as they were.
        if self.require_on_behalf_of:
            document["require_on_behalf_of"] = True
        return document


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    purposes: Mapping[str, Purpose]
    roles: Mapping[str, str]
    rules: tuple[Rule, ...]
    role_parents: tuple[tuple[str, str], ...] = field(default=())
    principals: Mapping[str, PrincipalSpec] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        return {
            "purposes": {pid: p.to_document() for pid, p in self.purposes.items()},
            "roles": {name: {"description": desc} for name, desc in self.roles.items()},
            "rules": [rule.to_document() for rule in self.rules],
            "role_parents": [list(pair) for pair in self.role_parents],
            "principals": {pid: spec.to_document() for pid, spec in self.principals.items()},
        }


def _parse_rule(index: int, raw: Any) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(raw, list | tuple) or len(raw) not in (4, 5):
        msg = f"{where}: expected [role, purpose, target, action] or [..., effect]"
        raise PolicyFileError(msg)
    if not all(isinstance(part, str) and part for part in raw):
        msg = f"{where}: every part must be a non-empty string"
        raise PolicyFileError(msg)
    try:
        effect = RuleEffect(raw[4]) if len(raw) == 5 else RuleEffect.ALLOW
    except ValueError:
        msg = f"{where}: effect must be 'allow' or 'deny'"
        raise PolicyFileError(msg) from None
    return Rule(role=raw[0], purpose=raw[1], target=raw[2], action=raw[3], effect=effect)


def _names(where: str, raw: Any) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list | tuple) or not all(isinstance(n, str) and n for n in raw):
        msg = f"{where}: expected a list of names"
        raise PolicyFileError(msg)
    return frozenset(raw)


def parse_principals(raw: Any) -> dict[str, PrincipalSpec]:
    """Principals by id. Versions stored before principals joined the document have none."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        msg = "principals: expected a mapping of principal id to {roles, purposes}"
        raise PolicyFileError(msg)
    principals: dict[str, PrincipalSpec] = {}
    for pid, spec in raw.items():
        where = f"principals.{pid}"
        if not isinstance(spec, dict):
            msg = f"{where}: expected a mapping such as {{roles: [...], purposes: [...]}}"
            raise PolicyFileError(msg)
        unknown = sorted(set(spec) - {"roles", "purposes", "description", "require_on_behalf_of"})
        if unknown:
            msg = f"{where}: unknown keys {', '.join(map(str, unknown))}"
            raise PolicyFileError(msg)
        principals[str(pid)] = PrincipalSpec(
            roles=_names(f"{where}.roles", spec.get("roles")),
            purposes=_names(f"{where}.purposes", spec.get("purposes")),
            description=str(spec.get("description") or ""),
            require_on_behalf_of=_flag(f"{where}.require_on_behalf_of", spec),
        )
    return principals


def _flag(where: str, spec: dict[Any, Any]) -> bool:
    value = spec.get("require_on_behalf_of", False)
    if not isinstance(value, bool):
        msg = f"{where}: expected true or false"
        raise PolicyFileError(msg)
    return value


def parse_policy_document(raw: Any) -> PolicyDocument:
    if not isinstance(raw, dict):
        msg = "policy: expected a mapping with purposes, roles and rules"
        raise PolicyFileError(msg)
    roles_raw = raw.get("roles") or {}
    if not isinstance(roles_raw, dict):
        msg = "roles: expected a mapping"
        raise PolicyFileError(msg)
    roles: dict[str, str] = {}
    for name, spec in roles_raw.items():
        if spec is not None and not isinstance(spec, dict):
            msg = f"roles.{name}: expected a mapping such as {{description: ...}}"
            raise PolicyFileError(msg)
        roles[str(name)] = str((spec or {}).get("description", ""))
    rules = tuple(_parse_rule(i, item) for i, item in enumerate(raw.get("rules") or []))
    parents = tuple(
        (str(pair[0]), str(pair[1]))
        for pair in raw.get("role_parents") or []
        if isinstance(pair, list | tuple) and len(pair) == 2
    )
    return PolicyDocument(
        purposes=parse_purposes(raw.get("purposes")),
        roles=roles,
        rules=rules,
        role_parents=parents,
        principals=parse_principals(raw.get("principals")),
    )


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One thing wrong with a policy: where, a stable reason word, and what, for people.

    `where` names the part of the document (`rules[3]`, `principals.app.roles`);
    `reason` is a machine word (`unknown_role`); the message quotes only policy names,
    never a customer value.
    """

    where: str
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _target_problem(
    target: str, catalog: Catalog, purposes: Collection[str] = ()
) -> tuple[str, str] | None:
    if target == "*" or target.startswith("api:"):
        return None
    if target.startswith("consent:"):
        known = target.removeprefix("consent:") in purposes
        return None if known else ("unknown_purpose", "unknown purpose in consent target")
    if target.startswith("text:"):
        # A category inside free text only (its columns are not affected).
        known = target.removeprefix("text:") in catalog.categories
        return None if known else ("unknown_category", "unknown category in text target")
    if target.endswith("*"):
        prefix = target[:-1]
        if any(name.startswith(prefix) for name in catalog.categories):
            return None
        return "unknown_category", "pattern matches no category"
    if target in catalog.categories:
        return None
    entity, _, field_name = target.partition(".")
    if entity in catalog.entities and field_name in catalog.entities[entity].field_names:
        return None
    # `customers.shoe_size` names a field of a known entity; anything else a category.
    reason = "unknown_field" if entity in catalog.entities else "unknown_category"
    return reason, "unknown category or field"


def _action_problem(action: str, operators: Collection[str]) -> tuple[str, str] | None:
    if action == "*" or action in FIELD_ACTIONS or action in API_ACTIONS:
        return None
    if action in ("read:*", "read:clear", "read:mask", "read:pseudonymize"):
        return None
    if action.startswith("read:mask:"):
        operator = action.removeprefix("read:mask:")
        if operator in operators:
            return None
        return "unknown_operator", f"unknown masking operator {operator!r}"
    return "unknown_action", "unknown action"


def _category_known(category: str, catalog: Catalog) -> bool:
    if category == "*":
        return True
    if category.endswith("*"):
        prefix = category.removesuffix("*")
        return any(name.startswith(prefix) for name in catalog.categories)
    return category in catalog.categories


def _rule_problems(
    document: PolicyDocument, catalog: Catalog, operators: Collection[str]
) -> list[PolicyProblem]:
    problems: list[PolicyProblem] = []
    for index, rule in enumerate(document.rules):
        where = f"rules[{index}]"
        if rule.role not in document.roles:
            problems.append(PolicyProblem(where, "unknown_role", f"unknown role {rule.role!r}"))
        if rule.purpose != "*" and rule.purpose not in document.purposes:
            message = f"unknown purpose {rule.purpose!r}"
            problems.append(PolicyProblem(where, "unknown_purpose", message))
        target = _target_problem(rule.target, catalog, document.purposes.keys())
        if target is not None:
            message = f"target {rule.target!r}: {target[1]}"
            problems.append(PolicyProblem(where, target[0], message))
        if (action := _action_problem(rule.action, operators)) is not None:
            message = f"action {rule.action!r}: {action[1]}"
            problems.append(PolicyProblem(where, action[0], message))
    return problems


def principal_problems(document: PolicyDocument) -> list[PolicyProblem]:
    """Principals with a malformed id, or naming a role or purpose the document lacks."""
    problems: list[PolicyProblem] = []
    for pid, spec in document.principals.items():
        where = f"principals.{pid}"
        if not PRINCIPAL_ID.fullmatch(pid):
            message = "a principal id is 1-64 lowercase letters, digits, '.', '_' or '-'"
            problems.append(PolicyProblem(where, "invalid_principal_id", message))
        problems.extend(
            PolicyProblem(f"{where}.roles", "unknown_role", f"unknown role {role!r}")
            for role in sorted(spec.roles - document.roles.keys())
        )
        problems.extend(
            PolicyProblem(f"{where}.purposes", "unknown_purpose", f"unknown purpose {purpose!r}")
            for purpose in sorted(spec.purposes - document.purposes.keys())
        )
    return problems


def policy_problems(
    document: PolicyDocument, catalog: Catalog, operators: Collection[str]
) -> list[PolicyProblem]:
    """Every structural problem with the document, each naming where it is and why.

    Whether a (valid) change is *safe* — sensitive data in clear, separation of duties —
    is `policies.review`'s business.
    """
    problems = [
        PolicyProblem(
            f"roles.{role}",
            "invalid_role_name",
            "a role name is a lowercase letter, then up to 63 lowercase letters, digits or '_'",
        )
        for role in document.roles
        if not ROLE_NAME.fullmatch(role)
    ]
    problems += _rule_problems(document, catalog, operators)
    for child, parent in document.role_parents:
        problems.extend(
            PolicyProblem("role_parents", "unknown_role", f"unknown role {role!r}")
            for role in (child, parent)
            if role not in document.roles
        )
    for purpose in document.purposes.values():
        problems.extend(
            PolicyProblem(
                f"purposes.{purpose.id}.categories",
                "unknown_category",
                f"unknown category {category!r}",
            )
            for category in sorted(purpose.categories)
            if not _category_known(category, catalog)
        )
    problems.extend(principal_problems(document))
    return problems


def validate_policy(
    document: PolicyDocument, catalog: Catalog, operators: Collection[str]
) -> list[str]:
    """Every problem with the document, each naming the rule and what is wrong."""
    return [str(problem) for problem in policy_problems(document, catalog, operators)]


@cache
def default_policy_document() -> PolicyDocument:
    """The shipped default: purposes.yaml plus default_policy.yaml."""
    package = resources.files("policies")
    purposes = yaml.safe_load(package.joinpath("purposes.yaml").read_text(encoding="utf-8"))
    policy = yaml.safe_load(package.joinpath("default_policy.yaml").read_text(encoding="utf-8"))
    return parse_policy_document({**policy, "purposes": purposes["purposes"]})
