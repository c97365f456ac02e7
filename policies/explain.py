"""Explain a decision: per field, the effect, the rule behind it, consent, and the outcome.

Explain answers "why does this caller see this field like that?" without touching a
value. It asks what a governed read asks, in the same order and through the same
functions, so the two cannot disagree:

1. the compiled plan (`PolicyEngine.plan`, the very plan reads use) gives each field's
   effect, and whether it may be written or looked up;
2. the consent decision (`derive_states`, then `PurposeRules.decide` over the fields the
   plan shows, as the read pipeline calls it) gives what consent and purpose scope
   withhold — the whole record or single fields.

The deciding rule is looked up afterwards with casbin's `enforce_ex`, only to name it;
it never changes an outcome. Explaining is not on the request path: a few casbin calls
per field are fine here.

Without a customer's consent facts, the outcome assumes the consent the purpose needs is
in place (every separate scope, an adult customer), and `conditions` says under which
consent conditions it changes — no consent for the purpose, consent without separate
consent, a minor without a guardian's consent — with a one-line `summary` such as
"masked; withheld without separate consent; needs guardian consent for minors". That
answer holds no fact about any customer, so a security admin may ask it; explaining one
customer's decision reads that customer's consent and age, a compliance officer's act.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from policies.catalog import FieldSpec, Sensitivity
from policies.consent import (
    ConsentEvent,
    ConsentRecordError,
    ConsentState,
    PurposeRules,
    RecordDecision,
    SeparateScope,
    WithholdReason,
    derive_states,
    is_valid,
    record_fields,
)
from policies.document import Rule
from policies.plan import EffectKind, FieldDecision, PolicyEngine, PolicyPlan
from policies.purposes import Purpose

ConsentStatus = Literal["none", "granted", "expired", "withdrawn"]

WITHHELD = "withheld:"
INLINE_CUSTOMER = "inline"

Condition = Literal["no_consent", "no_separate_consent", "minor_without_guardian_consent"]
CONDITION_PHRASES: Mapping[Condition, str] = {
    "no_consent": "withheld without consent",
    "no_separate_consent": "withheld without separate consent",
    "minor_without_guardian_consent": "needs guardian consent for minors",
}
"""The consent conditions a policy-only explanation tries, and how its summary says so."""
"""Customer id of consent facts stated inline rather than read from a store."""


@dataclass(frozen=True, slots=True)
class ConsentFacts:
    """What the consent decision knows of one customer: its consent history and whether
    it is a minor under 14. Never a field value."""

    customer_id: str
    events: tuple[ConsentEvent, ...] = ()
    minor: bool = False

    @classmethod
    def inline(
        cls,
        *,
        now: dt.datetime,
        consents: Iterable[str] = (),
        separate: Iterable[str] = (),
        withdrawn: Iterable[str] = (),
        expired: Iterable[str] = (),
        minor: bool = False,
        guardian: bool = False,
    ) -> ConsentFacts:
        """Facts stated directly, for policy tests that run without a store.

        Each purpose in `consents` gets a valid grant carrying the `separate` scopes (and
        a guardian's name when `guardian`); `withdrawn` ones a grant then a withdrawal;
        `expired` ones a grant that expired a day ago. Raises ConsentRecordError for an
        unknown scope.
        """
        granted_at = now - dt.timedelta(days=30)
        try:
            scopes = frozenset(SeparateScope(scope) for scope in separate)
        except ValueError:
            allowed = ", ".join(scope.value for scope in SeparateScope)
            msg = f"separate consent scopes must be among {allowed}"
            raise ConsentRecordError(msg) from None
        guardian_ref = "guardian" if guardian else None

        def grant(purpose: str, expires_at: dt.datetime | None = None) -> ConsentEvent:
            return ConsentEvent(
                customer_id=INLINE_CUSTOMER,
                purpose=purpose,
                kind="grant",
                at=granted_at,
                channel="inline",
                notice_version="inline",
                expires_at=expires_at,
                separate=scopes,
                guardian_ref=guardian_ref,
            )

        events = [grant(purpose) for purpose in consents]
        for purpose in withdrawn:
            events.append(grant(purpose))
            events.append(
                ConsentEvent(
                    customer_id=INLINE_CUSTOMER,
                    purpose=purpose,
                    kind="withdraw",
                    at=now - dt.timedelta(days=1),
                    channel="inline",
                    notice_version="inline",
                )
            )
        events.extend(grant(purpose, now - dt.timedelta(days=1)) for purpose in expired)
        return cls(customer_id=INLINE_CUSTOMER, events=tuple(events), minor=minor)


@dataclass(frozen=True, slots=True)
class ConsentExplanation:
    """The customer's consent for the purpose, as the read decides it."""

    customer_id: str
    purpose: str
    legal_basis: str
    requires_consent: bool
    separate_required: tuple[str, ...]
    """Separate scopes the purpose itself needs (third party, disclosure, cross border)."""
    status: ConsentStatus
    separate: tuple[str, ...]
    """Separate scopes the customer's current, valid consent carries."""
    guardian: bool
    """The current consent was given by a guardian."""
    minor: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "requires_consent": self.requires_consent,
            "separate_required": list(self.separate_required),
            "status": self.status,
            "separate": list(self.separate),
            "guardian": self.guardian,
            "minor": self.minor,
        }


@dataclass(frozen=True, slots=True)
class FieldExplanation:
    entity: str
    field: str
    category: str
    sensitive: bool
    effect: str
    """clear, mask:<operator> (mask when no operator resolver is given), pseudonymize, deny."""
    rule: Rule | None
    """The rule that decided the effect; None when nothing matched (default deny)."""
    via_role: str | None
    """The caller's role through which `rule` applied (it may name a parent role)."""
    outcome: str
    """What a read shows: clear, masked, pseudonymized or withheld:<reason>."""
    reason: str
    """Why, in one sentence; it names rules, categories and purposes, never a value."""
    writable: bool
    lookup: bool
    without_consent: str | None = None
    """Explained without a customer: the outcome for a customer without any consent for
    the purpose, when it differs from `outcome`."""
    conditions: Mapping[str, str] | None = None
    """Explained without a customer: the outcome under each consent condition that
    changes it (see `CONDITION_PHRASES`); None when a customer's facts were used."""

    @property
    def summary(self) -> str | None:
        """One line: the outcome, then how consent conditions change it."""
        if self.conditions is None:
            return None
        label = self.outcome.removeprefix(WITHHELD) if self.withheld else self.outcome
        parts = [f"withheld ({label})" if self.withheld else label]
        parts.extend(CONDITION_PHRASES[c] for c in CONDITION_PHRASES if c in self.conditions)
        return "; ".join(parts)

    @property
    def withheld(self) -> bool:
        return self.outcome.startswith(WITHHELD)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "category": self.category,
            "sensitive": self.sensitive,
            "effect": self.effect,
            "rule": None if self.rule is None else rule_json(self.rule),
            "via_role": self.via_role,
            "outcome": self.outcome,
            "reason": self.reason,
            "writable": self.writable,
            "lookup": self.lookup,
        }
        if self.without_consent is not None:
            body["without_consent"] = self.without_consent
        if self.conditions is not None:
            body["conditions"] = dict(self.conditions)
            body["summary"] = self.summary
        return body


@dataclass(frozen=True, slots=True)
class EntityExplanation:
    entity: str
    fields: tuple[FieldExplanation, ...]
    record_outcome: str | None = None
    """withheld:<reason> when consent withholds the whole record (403, or left out of a
    list); None when the record is served."""
    record_conditions: Mapping[str, str] | None = None
    """Explained without a customer: the record's outcome under each consent condition
    that withholds it."""

    def field(self, name: str) -> FieldExplanation:
        for explained in self.fields:
            if explained.field == name:
                return explained
        msg = f"entity {self.entity!r} has no field {name!r}"
        raise KeyError(msg)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "record_outcome": self.record_outcome,
            "fields": {f.field: f.to_json() for f in self.fields},
        }
        if self.record_conditions is not None:
            body["record_conditions"] = dict(self.record_conditions)
        return body


@dataclass(frozen=True, slots=True)
class Explanation:
    policy_version: int
    purpose: str
    roles: tuple[str, ...]
    """The roles asked about; only `known_roles` count (unknown roles get nothing)."""
    known_roles: tuple[str, ...]
    entities: Mapping[str, EntityExplanation]
    api_rights: tuple[str, ...]
    consent_purposes: tuple[str, ...]
    consent: ConsentExplanation | None = None

    def field(self, qualified: str) -> FieldExplanation:
        """A field by `entity.field`, or by bare name for a customers field."""
        entity, _, name = qualified.rpartition(".")
        return self.entities[entity or "customers"].field(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "policy_version": self.policy_version,
            "purpose": self.purpose,
            "roles": list(self.roles),
            "known_roles": list(self.known_roles),
            "consent": None if self.consent is None else self.consent.to_json(),
            "entities": {name: e.to_json() for name, e in self.entities.items()},
            "api_rights": list(self.api_rights),
            "consent_purposes": list(self.consent_purposes),
        }


def rule_json(rule: Rule) -> dict[str, str]:
    return {
        "role": rule.role,
        "purpose": rule.purpose,
        "target": rule.target,
        "action": rule.action,
        "effect": rule.effect.value,
    }


def _rule_text(rule: Rule) -> str:
    return "[" + ", ".join(rule.as_casbin()) + "]"


# --- effect and rule ------------------------------------------------------------------


def effect_of(decision: FieldDecision, default_mask: Callable[[str], str] | None = None) -> str:
    """clear, mask:<operator>, pseudonymize or deny. A mask without an operator of its
    own uses the category default, named when `default_mask` resolves it."""
    if decision.kind is not EffectKind.MASK:
        return decision.kind.value
    operator = decision.operator
    if operator is None and default_mask is not None:
        operator = default_mask(decision.field.category)
    return "mask" if operator is None else f"mask:{operator}"


def deciding_rule(
    engine: PolicyEngine, plan: PolicyPlan, decision: FieldDecision
) -> tuple[Rule | None, str | None]:
    """The rule behind a field's read decision, and the caller's role it applied through.

    An effect was granted by an allow of its read action that no role's deny blocks:
    the allow rule of the first such role (sorted) is named. A denial names the first
    explicit deny matching any read action, or None when nothing matched at all.
    """
    spec = decision.field
    roles = sorted(plan.roles)
    action = decision.read_action
    obj, category = spec.qualified_name, spec.category
    if action is not None:
        for role in roles:
            rule = engine.allow_rule(role, plan.purpose, obj, category, action)
            if rule is not None:
                return rule, role
        return None, None
    for candidate in engine.read_actions:
        for role in roles:
            rule = engine.deny_rule(role, plan.purpose, obj, category, candidate)
            if rule is not None:
                return rule, role
    return None, None


# --- consent --------------------------------------------------------------------------


def consent_status(state: ConsentState | None, now: dt.datetime) -> ConsentStatus:
    if state is None:
        return "none"
    if is_valid(state, now):
        return "granted"
    return "expired" if state.granted else "withdrawn"


def _explain_consent(
    purpose: Purpose,
    rules: PurposeRules,
    facts: ConsentFacts,
    state: ConsentState | None,
    now: dt.datetime,
) -> ConsentExplanation:
    status = consent_status(state, now)
    valid = state if status == "granted" else None
    return ConsentExplanation(
        customer_id=facts.customer_id,
        purpose=purpose.id,
        legal_basis=purpose.legal_basis.value,
        requires_consent=rules.requires_consent,
        separate_required=tuple(sorted(s.value for s in rules.scopes_required)),
        status=status,
        separate=() if valid is None else tuple(sorted(s.value for s in valid.separate)),
        guardian=valid is not None and valid.guardian_ref is not None,
        minor=facts.minor,
    )


def _assumed_consent(
    purpose: Purpose, now: dt.datetime, *, separate: bool = True, guardian: bool = False
) -> ConsentState:
    """For explaining without a customer: a valid consent, by default with every scope
    (the best case)."""
    return ConsentState(
        purpose=purpose.id,
        granted=True,
        granted_at=now,
        expires_at=None,
        separate=frozenset(SeparateScope) if separate else frozenset(),
        guardian_ref="guardian" if guardian else None,
        withdrawn_at=None,
        notice_version="",
        channel="",
    )


def _conditions(
    rules: PurposeRules,
    purpose: Purpose,
    fields: Sequence[tuple[str, str, bool]],
    now: dt.datetime,
) -> dict[Condition, RecordDecision]:
    """The decision under each consent condition a policy-only explanation tries."""
    return {
        "no_consent": rules.decide(None, minor=False, fields=fields, now=now),
        "no_separate_consent": rules.decide(
            _assumed_consent(purpose, now, separate=False), minor=False, fields=fields, now=now
        ),
        "minor_without_guardian_consent": rules.decide(
            _assumed_consent(purpose, now), minor=True, fields=fields, now=now
        ),
    }


def _consent_reason(
    reason: str, purpose: Purpose, spec: FieldSpec, status: ConsentStatus | None
) -> str:
    held = "" if status is None else f" (the customer's consent: {status})"
    if reason == WithholdReason.OUTSIDE_PURPOSE:
        return f"category {spec.category} is outside the categories of purpose {purpose.id}"
    if reason == WithholdReason.NO_CONSENT:
        return f"purpose {purpose.id} (basis {purpose.legal_basis.value}) needs consent{held}"
    if reason == WithholdReason.GUARDIAN_CONSENT_REQUIRED:
        return "the customer is under 14: consent must come from a guardian (PIPL Art. 31)"
    if reason == WithholdReason.NO_SEPARATE_CONSENT:
        if spec.sensitivity is Sensitivity.SENSITIVE:
            return f"sensitive field: needs separate consent (sensitive) for {purpose.id}{held}"
        scopes = ", ".join(sorted(purpose.separate_scopes_required))
        return f"purpose {purpose.id} needs separate consent ({scopes}){held}"
    return reason


def _outcome(decision: FieldDecision, record: RecordDecision) -> tuple[str, str | None]:
    """The read's outcome for one field, and the consent reason that decided it if any.

    Same precedence as the read pipeline: the plan's denial first (the field is never
    fetched), then a reason naming this field (purpose scope stands even when the whole
    record is withheld), then the record's reason, else the plan's label.
    """
    if decision.kind is EffectKind.DENY:
        return decision.label, None
    name = decision.field.name
    if name in record.field_reasons:
        reason = record.field_reasons[name]
        return WITHHELD + reason, reason
    if record.withheld_reason is not None:
        return WITHHELD + record.withheld_reason, record.withheld_reason
    return decision.label, None


def _plan_reason(decision: FieldDecision, effect: str, rule: Rule | None) -> str:
    if rule is None:
        return "no rule allows reading it (default deny)"
    if decision.kind is EffectKind.DENY:
        return f"denied by rule {_rule_text(rule)}"
    return f"rule {_rule_text(rule)} gives {effect}"


# --- explain --------------------------------------------------------------------------


def explain(
    engine: PolicyEngine,
    roles: Iterable[str],
    purpose: str,
    *,
    consent: ConsentFacts | None = None,
    now: dt.datetime | None = None,
    default_mask: Callable[[str], str] | None = None,
) -> Explanation:
    """Explain every field of every entity for `roles` under `purpose`.

    `default_mask` names the operator a mask without one of its own uses (the gateway
    passes `masking.default_mask_for`). Raises UnknownPurposeError for a purpose the
    policy does not declare.
    """
    now = now or dt.datetime.now(dt.UTC)
    asked = frozenset(roles)
    plan = engine.plan(asked, purpose)  # the plan reads use: same cache, same version
    purpose_spec = engine.document.purposes[purpose]
    rules = PurposeRules(purpose_spec)
    state: ConsentState | None = None
    consent_explained: ConsentExplanation | None = None
    if consent is not None:
        state = derive_states(consent.events).get((consent.customer_id, purpose))
        consent_explained = _explain_consent(purpose_spec, rules, consent, state, now)
    entities: dict[str, EntityExplanation] = {}
    for entity in engine.catalog.entities.values():
        policy = plan.entities[entity.name]
        shown = record_fields(entity, (d.field.name for d in policy.visible))
        conditions: dict[Condition, RecordDecision] = {}
        if consent is not None:
            record = rules.decide(state, minor=consent.minor, fields=shown, now=now)
        else:
            best = _assumed_consent(purpose_spec, now)
            record = rules.decide(best, minor=False, fields=shown, now=now)
            conditions = _conditions(rules, purpose_spec, shown, now)
        explained: list[FieldExplanation] = []
        for spec in entity.fields:
            decision = policy.decisions[spec.name]
            effect = effect_of(decision, default_mask)
            rule, via_role = deciding_rule(engine, plan, decision)
            outcome, consent_reason = _outcome(decision, record)
            status = None if consent_explained is None else consent_explained.status
            reason = (
                _plan_reason(decision, effect, rule)
                if consent_reason is None
                else _consent_reason(consent_reason, purpose_spec, spec, status)
            )
            changed: dict[str, str] | None = None
            if consent is None:
                changed = {}
                for condition, decided in conditions.items():
                    other, _ = _outcome(decision, decided)
                    if other != outcome:
                        changed[condition] = other
            explained.append(
                FieldExplanation(
                    entity=entity.name,
                    field=spec.name,
                    category=spec.category,
                    sensitive=spec.sensitivity is Sensitivity.SENSITIVE,
                    effect=effect,
                    rule=rule,
                    via_role=via_role,
                    outcome=outcome,
                    reason=reason,
                    writable=spec.name in policy.writable,
                    lookup=spec.name in policy.lookupable,
                    without_consent=None if changed is None else changed.get("no_consent"),
                    conditions=changed,
                )
            )
        record_outcome = (
            None if record.withheld_reason is None else WITHHELD + record.withheld_reason
        )
        record_conditions: dict[str, str] | None = (
            None
            if consent is not None
            else {
                condition: WITHHELD + decided.withheld_reason
                for condition, decided in conditions.items()
                if decided.withheld_reason is not None
            }
        )
        entities[entity.name] = EntityExplanation(
            entity.name, tuple(explained), record_outcome, record_conditions
        )
    return Explanation(
        policy_version=plan.version,
        purpose=purpose,
        roles=tuple(sorted(asked)),
        known_roles=tuple(sorted(plan.roles)),
        entities=entities,
        api_rights=tuple(sorted(plan.api_rights)),
        consent_purposes=tuple(sorted(plan.consent_purposes)),
        consent=consent_explained,
    )
