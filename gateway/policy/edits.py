"""Edits of a policy document, one per API operation. Each returns an `Edit` for the
change service, which applies it to the newest version (again, if another change got
in first) and reviews the result as a whole."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import replace

from gateway.policy.change_service import Edit
from gateway.policy.errors import PolicyTargetExists, PolicyTargetNotFound
from policies.document import PolicyDocument, PrincipalSpec, Rule
from policies.purposes import Purpose


def rule_id(rule: Rule) -> str:
    """A stable id for a rule: the same rule has the same id in every version."""
    digest = hashlib.sha256("|".join(rule.as_casbin()).encode("utf-8")).hexdigest()
    return f"r_{digest[:12]}"


def _missing(kind: str, name: str) -> PolicyTargetNotFound:
    return PolicyTargetNotFound(f"there is no {kind} {name!r} in the newest policy version")


def _exists(kind: str, name: str) -> PolicyTargetExists:
    return PolicyTargetExists(f"{kind} {name!r} already exists")


def add_role(name: str, description: str) -> Edit:
    def edit(document: PolicyDocument) -> PolicyDocument:
        if name in document.roles:
            raise _exists("role", name)
        return replace(document, roles={**document.roles, name: description})

    return edit


def delete_role(name: str) -> Edit:
    """Remove the role with its rules and inheritance links. A principal that still
    holds it makes the review fail (`unknown_role` naming the principal)."""

    def edit(document: PolicyDocument) -> PolicyDocument:
        if name not in document.roles:
            raise _missing("role", name)
        return replace(
            document,
            roles={r: d for r, d in document.roles.items() if r != name},
            rules=tuple(rule for rule in document.rules if rule.role != name),
            role_parents=tuple(pair for pair in document.role_parents if name not in pair),
        )

    return edit


def add_principal(pid: str, spec: PrincipalSpec) -> Edit:
    def edit(document: PolicyDocument) -> PolicyDocument:
        if pid in document.principals:
            raise _exists("principal", pid)
        return replace(document, principals={**document.principals, pid: spec})

    return edit


def update_principal(
    pid: str,
    *,
    roles: Collection[str] | None = None,
    purposes: Collection[str] | None = None,
    description: str | None = None,
    require_on_behalf_of: bool | None = None,
) -> Edit:
    def edit(document: PolicyDocument) -> PolicyDocument:
        current = document.principals.get(pid)
        if current is None:
            raise _missing("principal", pid)
        updated = PrincipalSpec(
            roles=frozenset(roles) if roles is not None else current.roles,
            purposes=frozenset(purposes) if purposes is not None else current.purposes,
            description=description if description is not None else current.description,
            require_on_behalf_of=current.require_on_behalf_of
            if require_on_behalf_of is None
            else require_on_behalf_of,
        )
        return replace(document, principals={**document.principals, pid: updated})

    return edit


def delete_principal(pid: str) -> Edit:
    def edit(document: PolicyDocument) -> PolicyDocument:
        if pid not in document.principals:
            raise _missing("principal", pid)
        return replace(
            document, principals={p: s for p, s in document.principals.items() if p != pid}
        )

    return edit


def add_rule(rule: Rule) -> Edit:
    def edit(document: PolicyDocument) -> PolicyDocument:
        if rule in document.rules:
            raise _exists("rule", rule_id(rule))
        return replace(document, rules=(*document.rules, rule))

    return edit


def replace_rule(wanted: str, rule: Rule) -> Edit:
    """The rule `wanted` (by id) becomes `rule`, in its place: one version, one diff."""

    def edit(document: PolicyDocument) -> PolicyDocument:
        if not any(rule_id(old) == wanted for old in document.rules):
            raise _missing("rule", wanted)
        if rule_id(rule) != wanted and rule in document.rules:
            raise _exists("rule", rule_id(rule))
        rules = tuple(rule if rule_id(old) == wanted else old for old in document.rules)
        return replace(document, rules=rules)

    return edit


def remove_rule(wanted: str) -> Edit:
    def edit(document: PolicyDocument) -> PolicyDocument:
        kept = tuple(rule for rule in document.rules if rule_id(rule) != wanted)
        if len(kept) == len(document.rules):
            raise _missing("rule", wanted)
        return replace(document, rules=kept)

    return edit


def put_purpose(purpose: Purpose, *, create: bool) -> Edit:
    def edit(document: PolicyDocument) -> PolicyDocument:
        if create and purpose.id in document.purposes:
            raise _exists("purpose", purpose.id)
        if not create and purpose.id not in document.purposes:
            raise _missing("purpose", purpose.id)
        return replace(document, purposes={**document.purposes, purpose.id: purpose})

    return edit
