"""Explain: per field the effect, the deciding rule, consent and the outcome — as reads decide."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from gateway.db.init_store import with_demo_principals
from masking import default_mask_for
from policies.catalog import default_catalog
from policies.consent import (
    ConsentEvent,
    ConsentRecordError,
    PurposeRules,
    derive_states,
    record_fields,
)
from policies.document import PolicyDocument, Rule, RuleEffect, default_policy_document
from policies.document import parse_policy_document as parse
from policies.errors import UnknownPurposeError
from policies.explain import ConsentFacts, Explanation, explain
from policies.plan import EffectKind, PolicyEngine

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

# The demo principals of `wardgate init --demo`: their roles and purposes.
DEMO = {
    pid: (set(spec.roles), set(spec.purposes))
    for pid, spec in with_demo_principals(default_policy_document()).principals.items()
}


def default_engine() -> PolicyEngine:
    return PolicyEngine(default_policy_document(), default_catalog(), version=3)


def explained(
    roles: Iterable[str], purpose: str, engine: PolicyEngine | None = None, **facts: Any
) -> Explanation:
    consent = ConsentFacts.inline(now=NOW, **facts) if facts else None
    return explain(
        engine or default_engine(),
        roles,
        purpose,
        consent=consent,
        now=NOW,
        default_mask=default_mask_for,
    )


def custom_engine(
    rules: Sequence[Sequence[str]], role_parents: Sequence[Sequence[str]] = ()
) -> PolicyEngine:
    base = default_policy_document().to_document()
    raw = {
        "purposes": base["purposes"],
        "roles": {role: {"description": role} for role in ("agent", "senior", "lead")},
        "rules": [list(rule) for rule in rules],
        "role_parents": [list(pair) for pair in role_parents],
    }
    document: PolicyDocument = parse(raw)
    return PolicyEngine(document, default_catalog(), version=9)


def rule(*parts: str) -> Rule:
    effect = RuleEffect(parts[4]) if len(parts) == 5 else RuleEffect.ALLOW
    return Rule(parts[0], parts[1], parts[2], parts[3], effect)


# --- agreement with the compiled plan ------------------------------------------------------


@pytest.mark.parametrize("principal", sorted(DEMO))
def test_given_demo_principal_then_every_field_agrees_with_the_plan(principal: str) -> None:
    """Effect, label, write and lookup rights equal the plan's, for every declared purpose."""
    roles, _ = DEMO[principal]
    engine = default_engine()
    for purpose in engine.document.purposes:
        plan = engine.plan(roles, purpose)
        explanation = explained(roles, purpose, engine)
        assert explanation.policy_version == plan.version == 3
        assert explanation.api_rights == tuple(sorted(plan.api_rights))
        for entity, policy in plan.entities.items():
            rules = PurposeRules(engine.document.purposes[purpose])
            for name, decision in policy.decisions.items():
                field = explanation.entities[entity].field(name)
                assert field.writable == (name in policy.writable)
                assert field.lookup == (name in policy.lookupable)
                if decision.kind is EffectKind.DENY:
                    assert field.effect == "deny"
                    assert field.outcome == "withheld:denied"
                    assert field.rule is None or field.rule.effect is RuleEffect.DENY
                    continue
                assert field.effect.split(":")[0] == decision.kind.value
                assert field.rule is not None, f"{principal} {purpose} {entity}.{name}"
                assert field.rule.effect is RuleEffect.ALLOW
                assert field.rule.role in roles  # the demo policy has no role parents
                in_scope = rules.allows_category(decision.field.category)
                assert field.outcome == (decision.label if in_scope else "withheld:outside_purpose")


@pytest.mark.parametrize("principal", sorted(DEMO))
def test_given_demo_principal_and_customer_then_consent_agrees_with_the_read_decision(
    principal: str,
) -> None:
    """Outcomes equal what PurposeRules.decide withholds from the fields the plan shows."""
    roles, purposes = DEMO[principal]
    engine = default_engine()
    cases: list[dict[str, Any]] = [
        {},
        {"consents": sorted(purposes)},
        {"consents": sorted(purposes), "separate": ["sensitive"]},
        {"consents": sorted(purposes), "separate": ["sensitive"], "minor": True},
        {"withdrawn": sorted(purposes)},
    ]
    for purpose in sorted(purposes):
        plan = engine.plan(roles, purpose)
        rules = PurposeRules(engine.document.purposes[purpose])
        for case in cases:
            facts = ConsentFacts.inline(now=NOW, **case)
            explanation = explain(engine, roles, purpose, consent=facts, now=NOW)
            state = derive_states(facts.events).get((facts.customer_id, purpose))
            for entity in engine.catalog.entities.values():
                policy = plan.entities[entity.name]
                shown = record_fields(entity, (d.field.name for d in policy.visible))
                record = rules.decide(state, minor=facts.minor, fields=shown, now=NOW)
                got = explanation.entities[entity.name]
                assert got.record_outcome == (
                    None if record.withheld_reason is None else f"withheld:{record.withheld_reason}"
                )
                for name, decision in policy.decisions.items():
                    if decision.kind is EffectKind.DENY:
                        expected = "withheld:denied"
                    elif name in record.field_reasons:
                        expected = f"withheld:{record.field_reasons[name]}"
                    elif record.withheld_reason is not None:
                        expected = f"withheld:{record.withheld_reason}"
                    else:
                        expected = decision.label
                    assert got.field(name).outcome == expected, (principal, case, name)


# --- the deciding rule --------------------------------------------------------------------


def test_given_support_desk_then_masked_fields_name_their_rule_and_operator() -> None:
    explanation = explained({"customer_service"}, "customer_service")

    name = explanation.field("customers.name")
    assert name.effect == "mask:person_name"
    assert name.rule == rule("customer_service", "customer_service", "identity.name", "read:mask")
    assert name.via_role == "customer_service"
    assert name.outcome == "masked"
    assert "identity.name, read:mask" in name.reason

    phone = explanation.field("phone")
    assert phone.effect == "mask:mobile"
    assert phone.rule == rule("customer_service", "customer_service", "contact.*", "read:mask")
    assert phone.writable
    assert phone.lookup

    customer_id = explanation.field("customers.id")
    assert customer_id.effect == "clear"
    assert customer_id.outcome == "clear"


def test_given_free_text_shown_then_effect_is_scan_and_rule_is_the_read_grant() -> None:
    notes = explained({"customer_service"}, "customer_service").field("customers.notes")
    assert notes.effect == "scan"
    assert notes.outcome == "scanned"
    assert notes.rule == rule("customer_service", "customer_service", "free_text", "read:mask")


def test_given_explicit_deny_then_it_is_the_deciding_rule() -> None:
    notes = explained({"analyst"}, "analytics").field("customers.notes")
    assert notes.effect == "deny"
    assert notes.outcome == "withheld:denied"
    assert notes.rule == rule("analyst", "analytics", "free_text", "*", "deny")
    assert notes.reason.startswith("denied by rule")

    id_number = explained({"marketing"}, "marketing").field("customers.id_number")
    assert id_number.rule == rule("marketing", "marketing", "identity.national_id", "*", "deny")


def test_given_nothing_matches_then_rule_is_none_and_default_deny() -> None:
    email = explained({"analyst"}, "analytics").field("customers.email")
    assert email.effect == "deny"
    assert email.rule is None
    assert email.via_role is None
    assert email.reason == "no rule allows reading it (default deny)"


def test_given_analyst_then_customer_id_is_pseudonymized_by_its_rule() -> None:
    customer_id = explained({"analyst"}, "analytics").field("customers.id")
    assert customer_id.effect == "pseudonymize"
    assert customer_id.outcome == "pseudonymized"
    assert customer_id.rule == rule(
        "analyst", "analytics", "identity.customer_id", "read:pseudonymize"
    )


def test_given_mask_with_operator_then_effect_names_that_operator() -> None:
    engine = custom_engine([["agent", "customer_service", "contact.phone", "read:mask:redact"]])
    phone = explained({"agent"}, "customer_service", engine).field("customers.phone")
    assert phone.effect == "mask:redact"
    assert phone.rule == rule("agent", "customer_service", "contact.phone", "read:mask:redact")


def test_given_no_operator_resolver_then_default_mask_is_plain_mask() -> None:
    explanation = explain(default_engine(), {"customer_service"}, "customer_service", now=NOW)
    assert explanation.field("customers.phone").effect == "mask"


def test_given_deny_of_clear_by_one_role_then_the_mask_allow_decides() -> None:
    engine = custom_engine(
        [
            ["agent", "customer_service", "contact.*", "read:*"],
            ["senior", "customer_service", "contact.phone", "read:clear", "deny"],
        ]
    )
    explanation = explained({"agent", "senior"}, "customer_service", engine)
    phone = explanation.field("customers.phone")
    assert phone.effect == "mask:mobile"
    assert phone.rule == rule("agent", "customer_service", "contact.*", "read:*")
    assert explanation.field("customers.email").effect == "clear"


def test_given_one_role_allows_and_another_denies_then_the_deny_rule_decides() -> None:
    engine = custom_engine(
        [
            ["agent", "customer_service", "contact.*", "read:clear"],
            ["senior", "customer_service", "contact.phone", "*", "deny"],
        ]
    )
    phone = explained({"agent", "senior"}, "customer_service", engine).field("customers.phone")
    assert phone.effect == "deny"
    assert phone.rule == rule("senior", "customer_service", "contact.phone", "*", "deny")
    assert phone.via_role == "senior"


def test_given_rule_of_a_parent_role_then_it_is_named_with_the_callers_role() -> None:
    engine = custom_engine(
        [["agent", "customer_service", "identity.name", "read:mask"]],
        role_parents=[["senior", "agent"]],
    )
    name = explained({"senior"}, "customer_service", engine).field("customers.name")
    assert name.rule == rule("agent", "customer_service", "identity.name", "read:mask")
    assert name.via_role == "senior"


def test_given_wildcard_purpose_rule_then_it_is_named_as_written() -> None:
    engine = custom_engine([["agent", "*", "demographic.region", "read:clear"]])
    region = explained({"agent"}, "customer_service", engine).field("customers.region")
    assert region.rule == rule("agent", "*", "demographic.region", "read:clear")


def test_given_unknown_role_then_everything_is_denied_and_it_is_not_counted() -> None:
    explanation = explained({"customer_service", "ghost"}, "customer_service")
    assert explanation.roles == ("customer_service", "ghost")
    assert explanation.known_roles == ("customer_service",)
    only_ghost = explained({"ghost"}, "customer_service")
    assert all(
        f.effect == "deny" and f.rule is None
        for e in only_ghost.entities.values()
        for f in e.fields
    )


def test_given_unknown_purpose_then_it_raises() -> None:
    with pytest.raises(UnknownPurposeError):
        explained({"customer_service"}, "no_such_purpose")


# --- consent ------------------------------------------------------------------------------


def test_given_marketing_without_consent_then_the_record_is_withheld_for_no_consent() -> None:
    explanation = explained({"marketing"}, "marketing", consents=[])
    customers = explanation.entities["customers"]
    assert customers.record_outcome == "withheld:no_consent"
    assert customers.field("phone").outcome == "withheld:no_consent"
    assert customers.field("phone").effect == "mask:mobile"  # the plan is unchanged
    assert customers.field("id_number").outcome == "withheld:denied"
    assert explanation.entities["orders"].record_outcome == "withheld:no_consent"
    assert explanation.consent is not None
    assert explanation.consent.status == "none"
    assert explanation.consent.requires_consent
    assert "needs consent" in customers.field("phone").reason


def test_given_marketing_with_consent_then_fields_show_as_the_plan_says() -> None:
    explanation = explained({"marketing"}, "marketing", consents=["marketing"])
    customers = explanation.entities["customers"]
    assert customers.record_outcome is None
    assert customers.field("phone").outcome == "masked"
    assert customers.field("region").outcome == "clear"
    assert explanation.consent is not None
    assert explanation.consent.status == "granted"


def test_given_consent_for_another_purpose_then_it_does_not_count() -> None:
    explanation = explained({"marketing"}, "marketing", consents=["analytics"])
    assert explanation.entities["customers"].record_outcome == "withheld:no_consent"


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ({"withdrawn": ["marketing"]}, "withdrawn"),
        ({"expired": ["marketing"]}, "expired"),
    ],
)
def test_given_withdrawn_or_expired_consent_then_it_is_named_and_the_record_withheld(
    facts: dict[str, Any], status: str
) -> None:
    explanation = explained({"marketing"}, "marketing", **facts)
    assert explanation.consent is not None
    assert explanation.consent.status == status
    assert explanation.consent.separate == ()
    phone = explanation.field("customers.phone")
    assert phone.outcome == "withheld:no_consent"
    assert f"consent: {status}" in phone.reason


def test_given_contract_purpose_then_sensitive_fields_need_separate_consent() -> None:
    without = explained({"customer_service"}, "customer_service", consents=[])
    assert without.entities["customers"].record_outcome is None  # contract: no consent needed
    id_number = without.field("customers.id_number")
    assert id_number.effect == "mask:resident_id"
    assert id_number.outcome == "withheld:no_separate_consent"
    assert "separate consent (sensitive)" in id_number.reason
    assert without.field("customers.bank_card").outcome == "withheld:no_separate_consent"
    assert without.field("customers.phone").outcome == "masked"

    with_scope = explained(
        {"customer_service"},
        "customer_service",
        consents=["customer_service"],
        separate=["sensitive"],
    )
    assert with_scope.field("customers.id_number").outcome == "masked"
    assert with_scope.consent is not None
    assert with_scope.consent.separate == ("sensitive",)


def test_given_minor_then_guardian_consent_decides() -> None:
    args: dict[str, Any] = {"consents": ["customer_service"], "separate": ["sensitive"]}
    child = explained({"customer_service"}, "customer_service", minor=True, **args)
    assert child.field("customers.id_number").outcome == "withheld:guardian_consent_required"
    assert child.consent is not None
    assert child.consent.minor
    assert not child.consent.guardian

    guarded = explained({"customer_service"}, "customer_service", minor=True, guardian=True, **args)
    assert guarded.field("customers.id_number").outcome == "masked"
    assert guarded.consent is not None
    assert guarded.consent.guardian

    marketing_child = explained({"marketing"}, "marketing", consents=["marketing"], minor=True)
    assert marketing_child.entities["customers"].record_outcome == (
        "withheld:guardian_consent_required"
    )


def test_given_purpose_needing_a_separate_scope_then_the_record_needs_it() -> None:
    engine = custom_engine([["agent", "partner_sharing", "identity.name", "read:mask"]])
    without = explained({"agent"}, "partner_sharing", engine, consents=["partner_sharing"])
    assert without.entities["customers"].record_outcome == "withheld:no_separate_consent"
    assert without.consent is not None
    assert without.consent.separate_required == ("third_party",)
    assert "third_party" in without.field("customers.name").reason

    with_scope = explained(
        {"agent"}, "partner_sharing", engine, consents=["partner_sharing"], separate=["third_party"]
    )
    assert with_scope.field("customers.name").outcome == "masked"


def test_given_category_outside_purpose_then_that_reason_stands_even_if_record_withheld() -> None:
    engine = custom_engine(
        [
            ["agent", "analytics", "identity.name", "read:mask"],
            ["agent", "analytics", "demographic.region", "read:clear"],
        ]
    )
    without = explained({"agent"}, "analytics", engine, consents=[])
    assert without.entities["customers"].record_outcome == "withheld:no_consent"
    name = without.field("customers.name")
    assert name.effect == "mask:person_name"
    assert name.outcome == "withheld:outside_purpose"
    assert "outside the categories of purpose analytics" in name.reason
    assert without.field("customers.region").outcome == "withheld:no_consent"

    consented = explained({"agent"}, "analytics", engine, consents=["analytics"])
    assert consented.field("customers.name").outcome == "withheld:outside_purpose"
    assert consented.field("customers.region").outcome == "clear"


def test_given_no_customer_then_outcome_assumes_consent_and_says_what_lacking_it_gives() -> None:
    marketing = explained({"marketing"}, "marketing")
    assert marketing.consent is None
    phone = marketing.field("customers.phone")
    assert phone.outcome == "masked"
    assert phone.without_consent == "withheld:no_consent"
    assert marketing.field("customers.id_number").without_consent is None  # denied either way

    desk = explained({"customer_service"}, "customer_service")
    assert desk.field("customers.id_number").outcome == "masked"
    assert desk.field("customers.id_number").without_consent == "withheld:no_separate_consent"
    assert desk.field("customers.phone").without_consent is None


def test_given_unknown_separate_scope_inline_then_it_is_refused() -> None:
    with pytest.raises(ConsentRecordError, match="separate consent scopes must be among"):
        ConsentFacts.inline(now=NOW, consents=["marketing"], separate=["sideways"])


def test_given_real_history_then_the_latest_event_decides() -> None:
    def event(kind: str, days_ago: int, **extra: Any) -> ConsentEvent:
        return ConsentEvent(
            customer_id="cus_1",
            purpose="marketing",
            kind=kind,  # type: ignore[arg-type]
            at=NOW - dt.timedelta(days=days_ago),
            channel="app",
            notice_version="v1",
            **extra,
        )

    history = (event("grant", 10), event("withdraw", 5), event("grant", 2))
    explanation = explain(
        default_engine(),
        {"marketing"},
        "marketing",
        consent=ConsentFacts("cus_1", history),
        now=NOW,
    )
    assert explanation.consent is not None
    assert explanation.consent.status == "granted"
    assert explanation.consent.customer_id == "cus_1"
    assert explanation.entities["customers"].record_outcome is None
    with pytest.raises(ConsentRecordError):
        event("withdraw", 1, separate=frozenset({"sensitive"}))


# --- serialisation -----------------------------------------------------------------------


def test_given_explanation_then_json_names_rules_and_outcomes_per_entity_and_field() -> None:
    explanation = explained({"customer_service"}, "customer_service", consents=["customer_service"])
    body = json.loads(json.dumps(explanation.to_json()))
    assert body["policy_version"] == 3
    assert body["purpose"] == "customer_service"
    assert body["consent"]["status"] == "granted"
    name = body["entities"]["customers"]["fields"]["name"]
    assert name["effect"] == "mask:person_name"
    assert name["outcome"] == "masked"
    assert name["rule"] == {
        "role": "customer_service",
        "purpose": "customer_service",
        "target": "identity.name",
        "action": "read:mask",
        "effect": "allow",
    }
    assert body["entities"]["customers"]["fields"]["email"]["rule"]["target"] == "contact.*"
    assert body["entities"]["orders"]["record_outcome"] is None
    assert "consent:write" in body["api_rights"]
