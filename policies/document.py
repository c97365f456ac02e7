"""The policy document: what one immutable policy version holds.

A version bundles purposes, roles and field rules so that a request can run entirely
under the version it started with. The document is plain data (JSON-serialisable) so
it can be stored, diffed and exported as files.
"""

from __future__ import annotations

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

READ_PREFIX = "read:"
FIELD_ACTIONS = ("write", "lookup")
API_ACTIONS = ("audit:read", "policy:admin", "consent:write", "scan", "erase")
# consent:write is checked per consent purpose (PolicyPlan.consent_purposes).


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


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    purposes: Mapping[str, Purpose]
    roles: Mapping[str, str]
    rules: tuple[Rule, ...]
    role_parents: tuple[tuple[str, str], ...] = field(default=())

    def to_document(self) -> dict[str, Any]:
        return {
            "purposes": {pid: p.to_document() for pid, p in self.purposes.items()},
            "roles": {name: {"description": desc} for name, desc in self.roles.items()},
            "rules": [rule.to_document() for rule in self.rules],
            "role_parents": [list(pair) for pair in self.role_parents],
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
    )


def _target_problem(target: str, catalog: Catalog, purposes: Collection[str] = ()) -> str | None:
    if target == "*" or target.startswith("api:"):
        return None
    if target.startswith("consent:"):
        known = target.removeprefix("consent:") in purposes
        return None if known else "unknown purpose in consent target"
    if target.endswith("*"):
        prefix = target[:-1]
        if any(name.startswith(prefix) for name in catalog.categories):
            return None
        return "pattern matches no category"
    if target in catalog.categories:
        return None
    entity, _, field_name = target.partition(".")
    if entity in catalog.entities and field_name in catalog.entities[entity].field_names:
        return None
    return "unknown category or field"


def _action_problem(action: str, operators: Collection[str]) -> str | None:
    if action == "*" or action in FIELD_ACTIONS or action in API_ACTIONS:
        return None
    if action in ("read:*", "read:clear", "read:mask", "read:pseudonymize"):
        return None
    if action.startswith("read:mask:"):
        operator = action.removeprefix("read:mask:")
        return None if operator in operators else f"unknown masking operator {operator!r}"
    return "unknown action"


def validate_policy(
    document: PolicyDocument, catalog: Catalog, operators: Collection[str]
) -> list[str]:
    """Every problem with the document, each naming the rule and what is wrong."""
    problems: list[str] = []
    for index, rule in enumerate(document.rules):
        where = f"rules[{index}]"
        if rule.role not in document.roles:
            problems.append(f"{where}: unknown role {rule.role!r}")
        if rule.purpose != "*" and rule.purpose not in document.purposes:
            problems.append(f"{where}: unknown purpose {rule.purpose!r}")
        target_problem = _target_problem(rule.target, catalog, document.purposes.keys())
        if target_problem is not None:
            problems.append(f"{where}: target {rule.target!r}: {target_problem}")
        if (action_problem := _action_problem(rule.action, operators)) is not None:
            problems.append(f"{where}: action {rule.action!r}: {action_problem}")
    for child, parent in document.role_parents:
        for role in (child, parent):
            if role not in document.roles:
                problems.append(f"role_parents: unknown role {role!r}")
    for purpose in document.purposes.values():
        for category in sorted(purpose.categories):
            if category == "*":
                continue
            prefix = category.removesuffix("*")
            known = (
                any(name.startswith(prefix) for name in catalog.categories)
                if category.endswith("*")
                else category in catalog.categories
            )
            if not known:
                problems.append(f"purposes.{purpose.id}.categories: unknown category {category!r}")
    return problems


@cache
def default_policy_document() -> PolicyDocument:
    """The shipped default: purposes.yaml plus default_policy.yaml."""
    package = resources.files("policies")
    purposes = yaml.safe_load(package.joinpath("purposes.yaml").read_text(encoding="utf-8"))
    policy = yaml.safe_load(package.joinpath("default_policy.yaml").read_text(encoding="utf-8"))
    return parse_policy_document({**policy, "purposes": purposes["purposes"]})
