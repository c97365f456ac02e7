"""Compile casbin rules into field plans.

casbin decides; the plan remembers. `enforce` costs close to a millisecond with a few
hundred rules, so it is asked once per (roles, purpose, field, candidate effect) when a
plan is compiled, and never on the request path. Plans are immutable and cached per
policy version.

Free text gets a second plan: one decision per data category, for the personal data PII
detection finds inside a `scan_pii` field. Those are asked about as the object
`text:<category>` with that category, so category rules and patterns (`contact.*`)
apply inside text exactly as they do to columns, while rules on a column
(`customers.phone`) do not.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from types import MappingProxyType

import casbin

from policies.catalog import Catalog, FieldSpec
from policies.document import API_ACTIONS, PolicyDocument, Rule, RuleEffect
from policies.errors import UnknownPurposeError


class EffectKind(StrEnum):
    CLEAR = "clear"
    MASK = "mask"
    PSEUDONYMIZE = "pseudonymize"
    DENY = "deny"
    SCAN = "scan"
    """A `scan_pii` field shown with what PII detection finds in it treated per the
    caller's plan for each category (`PolicyPlan.text`)."""


# What the governance block says about a field, by effect.
GOVERNANCE_LABEL = {
    EffectKind.CLEAR: "clear",
    EffectKind.MASK: "masked",
    EffectKind.PSEUDONYMIZE: "pseudonymized",
    EffectKind.DENY: "withheld:denied",
    EffectKind.SCAN: "scanned",
}

# Why a category is withheld inside free text.
TEXT_DENIED = "denied"
TEXT_OUTSIDE_PURPOSE = "outside_purpose"


@dataclass(frozen=True, slots=True)
class FieldDecision:
    """The effect one field gets under a plan. `operator` None means the category default."""

    field: FieldSpec
    kind: EffectKind
    operator: str | None = None
    scanned_via: str | None = dataclasses.field(default=None, compare=False)
    """For SCAN: the read action (read:clear or read:mask) that let the text be shown."""

    @property
    def label(self) -> str:
        return GOVERNANCE_LABEL[self.kind]

    @property
    def read_action(self) -> str | None:
        """The read action whose grant gave this effect (see `_read_candidates`); None
        for a denial."""
        if self.kind is EffectKind.DENY:
            return None
        if self.kind is EffectKind.SCAN:
            return self.scanned_via
        if self.kind is EffectKind.MASK and self.operator is not None:
            return f"read:mask:{self.operator}"
        return f"read:{self.kind.value}"


@dataclass(frozen=True, slots=True)
class CategoryDecision:
    """The effect a datum of one category gets where it appears inside free text.

    A DENY names its `reason`: the policy's (`denied`) or the purpose's scope
    (`outside_purpose`). `operator` None means the category's default mask.
    """

    category: str
    kind: EffectKind
    operator: str | None = None
    reason: str | None = None


_NO_TEXT: Mapping[str, CategoryDecision] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class EntityPolicy:
    entity: str
    decisions: Mapping[str, FieldDecision]
    writable: frozenset[str]
    lookupable: frozenset[str] = frozenset()

    @property
    def visible(self) -> tuple[FieldDecision, ...]:
        return tuple(d for d in self.decisions.values() if d.kind is not EffectKind.DENY)


@dataclass(frozen=True, slots=True)
class PolicyPlan:
    """Everything a request needs to know about its (roles, purpose) under one version."""

    version: int
    roles: frozenset[str]
    purpose: str
    entities: Mapping[str, EntityPolicy]
    api_rights: frozenset[str]
    consent_purposes: frozenset[str] = frozenset()
    """Purposes whose consents these roles may record and withdraw under this purpose."""
    consent_readable: frozenset[str] = frozenset()
    """Purposes whose consent records these roles may read under this purpose, besides
    the records of this purpose itself (minimization: no more without the right)."""
    text: Mapping[str, CategoryDecision] = dataclasses.field(default_factory=lambda: _NO_TEXT)
    """Per personal data category, its effect inside free text; empty when no `scan_pii`
    field is visible. A category missing here is withheld (fail closed)."""


def _model_text() -> str:
    return resources.files("policies").joinpath("model.conf").read_text(encoding="utf-8")


# casbin parses its matcher with `ast.parse` on every enforce, and CPython 3.11 before
# 3.11.8 keeps the AST constructor's recursion depth in state shared by all threads:
# two threads parsing at once can fail with "SystemError: AST constructor recursion
# depth mismatch" (python/cpython#106905, fixed by #113035). Plans are compiled in worker
# threads (reload warm-up) while the event loop asks casbin too, so one enforce at a time
# in the whole process. It is held for a single question (well under a millisecond),
# never for a whole plan.
_ENFORCE_LOCK = threading.Lock()


# The same model asking the other question: does any *deny* rule match? A principal's
# roles are asked one by one, so without it one role's allow would hide another
# role's explicit deny. (casbin supports only a few effect expressions; this one is
# true when no deny matches.)
_NO_DENY_EFFECT = "e = !some(where (p.eft == deny))"


def _enforcer(model_text: str, document: PolicyDocument) -> casbin.Enforcer:
    model = casbin.model.Model()
    model.load_model_from_text(model_text)
    enforcer = casbin.Enforcer(model)
    rules = [rule.as_casbin() for rule in document.rules]
    if rules:
        enforcer.add_policies(rules)
    for child, parent in document.role_parents:
        enforcer.add_grouping_policy(child, parent)
    return enforcer


def _deny_model_text() -> str:
    lines = _model_text().splitlines()
    effect = next(i for i, line in enumerate(lines) if line.startswith("e = "))
    lines[effect] = _NO_DENY_EFFECT
    return "\n".join(lines)


def _read_candidates(document: PolicyDocument) -> tuple[tuple[str, EffectKind, str | None], ...]:
    """Read actions to ask casbin about, most permissive first.

    When several of a principal's roles allow different effects, the most permissive
    one wins (roles add access); an explicit deny still wins over all of them.
    """
    operators = sorted(
        {
            rule.action.removeprefix("read:mask:")
            for rule in document.rules
            if rule.action.startswith("read:mask:")
        }
    )
    return (
        ("read:clear", EffectKind.CLEAR, None),
        *((f"read:mask:{op}", EffectKind.MASK, op) for op in operators),
        ("read:mask", EffectKind.MASK, None),
        ("read:pseudonymize", EffectKind.PSEUDONYMIZE, None),
    )


class PolicyEngine:
    """A casbin enforcer over one policy version, and the plans compiled from it."""

    def __init__(self, document: PolicyDocument, catalog: Catalog, version: int) -> None:
        self.document = document
        self.catalog = catalog
        self.version = version
        self._enforcer = _enforcer(_model_text(), document)
        self._deny_enforcer = _enforcer(_deny_model_text(), document)
        self._candidates = _read_candidates(document)
        self._plans: dict[tuple[frozenset[str], str], PolicyPlan] = {}
        # Plans may be compiled from a worker thread (CLI, warm-up) while requests read.
        self._lock = threading.Lock()

    def allows(self, role: str, purpose: str, obj: str, category: str, action: str) -> bool:
        with _ENFORCE_LOCK:
            return bool(self._enforcer.enforce(role, purpose, obj, category, action))

    def denies(self, role: str, purpose: str, obj: str, category: str, action: str) -> bool:
        """Whether an explicit deny rule matches (not merely: nothing allows)."""
        with _ENFORCE_LOCK:
            return not self._deny_enforcer.enforce(role, purpose, obj, category, action)

    def allow_rule(
        self, role: str, purpose: str, obj: str, category: str, action: str
    ) -> Rule | None:
        """The allow rule by which `role` may do it; None when none matches or a deny does.

        For explanations only: casbin reports one matching rule (the last allow it saw).
        """
        with _ENFORCE_LOCK:
            allowed, matched = self._enforcer.enforce_ex(role, purpose, obj, category, action)
        return _as_rule(matched) if allowed and matched else None

    def deny_rule(
        self, role: str, purpose: str, obj: str, category: str, action: str
    ) -> Rule | None:
        """The first explicit deny rule that matches, or None. For explanations only."""
        with _ENFORCE_LOCK:
            no_deny, matched = self._deny_enforcer.enforce_ex(role, purpose, obj, category, action)
        return None if no_deny or not matched else _as_rule(matched)

    @property
    def read_actions(self) -> tuple[str, ...]:
        """The read actions a plan asks about, most permissive first."""
        return tuple(action for action, _, _ in self._candidates)

    def granted(
        self, roles: frozenset[str], purpose: str, obj: str, category: str, action: str
    ) -> bool:
        """Some role allows it and no role explicitly denies it."""
        return any(self.allows(r, purpose, obj, category, action) for r in roles) and not any(
            self.denies(r, purpose, obj, category, action) for r in roles
        )

    def plan(self, roles: Iterable[str], purpose: str) -> PolicyPlan:
        key = (frozenset(roles), purpose)
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key)
                if plan is None:
                    plan = self._compile(*key)
                    self._plans[key] = plan
        return plan

    def decide_read(self, roles: frozenset[str], purpose: str, spec: FieldSpec) -> FieldDecision:
        """The read effect of one field, exactly as a compiled plan would hold it."""
        for action, kind, operator in self._candidates:
            if self.granted(roles, purpose, spec.qualified_name, spec.category, action):
                if spec.scan_pii and kind in _SCANNED and operator is None:
                    # Free text is never shown as it is stored: what is personal inside
                    # it is treated per category. (An explicit operator or pseudonym
                    # still applies to the whole text.)
                    return FieldDecision(spec, EffectKind.SCAN, scanned_via=action)
                return FieldDecision(field=spec, kind=kind, operator=operator)
        return FieldDecision(field=spec, kind=EffectKind.DENY)

    def text_categories(self) -> tuple[str, ...]:
        """The categories a text plan decides: every personal one but free text itself."""
        scanned = {spec.category for spec in self.catalog.all_fields() if spec.scan_pii}
        return tuple(
            name
            for name, category in self.catalog.categories.items()
            if category.personal and name not in scanned
        )

    def decide_text(self, roles: frozenset[str], purpose: str, category: str) -> CategoryDecision:
        """The effect of `category` inside free text, exactly as a compiled plan's `text`
        would hold it."""
        if not self.document.purposes[purpose].allows_category(category):
            return CategoryDecision(category, EffectKind.DENY, reason=TEXT_OUTSIDE_PURPOSE)
        return next(
            (
                CategoryDecision(category, kind, operator)
                for action, kind, operator in self._candidates
                if self.granted(roles, purpose, f"text:{category}", category, action)
            ),
            CategoryDecision(category, EffectKind.DENY, reason=TEXT_DENIED),
        )

    def _decide_text(self, roles: frozenset[str], purpose: str) -> Mapping[str, CategoryDecision]:
        """One decision per personal category, for data found inside free text."""
        return MappingProxyType(
            {name: self.decide_text(roles, purpose, name) for name in self.text_categories()}
        )

    def api_rights(self, roles: frozenset[str], purpose: str) -> frozenset[str]:
        """The API rights of `roles` under `purpose`, without compiling a whole plan."""
        # An API is asked about as both object and category, so `api:*` rules match it
        # through keyMatch and a deny on either the pattern or the API itself wins.
        known = frozenset(role for role in roles if role in self.document.roles)
        return frozenset(
            action
            for action in API_ACTIONS
            if self.granted(known, purpose, _api_object(action), _api_object(action), action)
        )

    def _compile(self, roles: frozenset[str], purpose: str) -> PolicyPlan:
        if purpose not in self.document.purposes:
            msg = f"unknown purpose {purpose!r}"
            raise UnknownPurposeError(msg)
        # Roles the policy does not know get nothing: unknown means deny.
        known = frozenset(role for role in roles if role in self.document.roles)
        entities: dict[str, EntityPolicy] = {}
        for entity in self.catalog.entities.values():
            decisions = {
                spec.name: self.decide_read(known, purpose, spec) for spec in entity.fields
            }
            writable = frozenset(
                spec.name
                for spec in entity.fields
                if spec.writable
                and self.granted(known, purpose, spec.qualified_name, spec.category, "write")
            )
            # Searching by a field reveals whether a value is there: a right of its own.
            lookupable = frozenset(
                spec.name
                for spec in entity.fields
                if spec.blind_index
                and self.granted(known, purpose, spec.qualified_name, spec.category, "lookup")
            )
            entities[entity.name] = EntityPolicy(
                entity=entity.name, decisions=decisions, writable=writable, lookupable=lookupable
            )
        api_rights = self.api_rights(known, purpose)
        # `api:consent` grants every purpose's consents; `consent:<purpose>` just one.
        consent_purposes = frozenset(
            pid
            for pid in self.document.purposes
            if self.granted(known, purpose, f"consent:{pid}", "api:consent", "consent:write")
        )
        consent_readable = frozenset(
            pid
            for pid in self.document.purposes
            if self.granted(known, purpose, f"consent:{pid}", "api:consent", "consent:read")
        )
        shows_text = any(
            decision.kind is EffectKind.SCAN
            for policy in entities.values()
            for decision in policy.decisions.values()
        )
        return PolicyPlan(
            version=self.version,
            roles=known,
            purpose=purpose,
            entities=entities,
            api_rights=api_rights,
            consent_purposes=consent_purposes,
            consent_readable=consent_readable,
            # The scan API masks per the same decisions, so they are compiled for it too.
            text=self._decide_text(known, purpose)
            if shows_text or "scan" in api_rights
            else _NO_TEXT,
        )


# Effects that show a `scan_pii` field scanned (a named operator or a pseudonym does not).
_SCANNED = frozenset({EffectKind.CLEAR, EffectKind.MASK})


def _as_rule(matched: list[str]) -> Rule:
    role, purpose, target, action, effect = matched
    return Rule(role=role, purpose=purpose, target=target, action=action, effect=RuleEffect(effect))


def _api_object(action: str) -> str:
    return f"api:{action.split(':')[0]}"
