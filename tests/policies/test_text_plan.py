"""Plans for free text: one decision per data category for what detection finds in a note."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from masking import default_registry
from policies.catalog import default_catalog
from policies.document import default_policy_document, validate_policy
from policies.document import parse_policy_document as parse
from policies.plan import (
    TEXT_DENIED,
    TEXT_OUTSIDE_PURPOSE,
    CategoryDecision,
    EffectKind,
    PolicyEngine,
    PolicyPlan,
)

PURPOSES = {
    "support": {"name_zh": "客服", "name_en": "Support", "legal_basis": "contract"},
    "campaigns": {
        "name_zh": "营销",
        "name_en": "Campaigns",
        "legal_basis": "consent",
        "categories": ["contact.phone", "free_text"],
    },
}
NOTES_SCANNED = ["agent", "*", "free_text", "read:mask"]


def plan_for(rules: Sequence[Sequence[str]], purpose: str = "support") -> PolicyPlan:
    raw: dict[str, Any] = {
        "purposes": PURPOSES,
        "roles": {"agent": {}, "other": {}},
        "rules": [list(rule) for rule in rules],
    }
    return PolicyEngine(parse(raw), default_catalog(), version=3).plan({"agent"}, purpose)


def text(plan: PolicyPlan, category: str) -> CategoryDecision:
    return plan.text[category]


def test_given_category_rule_then_it_applies_inside_text() -> None:
    plan = plan_for([NOTES_SCANNED, ["agent", "support", "contact.*", "read:mask"]])

    for category in ("contact.phone", "contact.email", "contact.address"):
        assert text(plan, category).kind is EffectKind.MASK
    assert text(plan, "identity.national_id").kind is EffectKind.DENY
    assert text(plan, "identity.national_id").reason == TEXT_DENIED


def test_given_rule_on_a_column_then_it_does_not_reach_text() -> None:
    plan = plan_for([NOTES_SCANNED, ["agent", "support", "customers.phone", "read:clear"]])

    assert plan.entities["customers"].decisions["phone"].kind is EffectKind.CLEAR
    assert text(plan, "contact.phone").kind is EffectKind.DENY


def test_given_text_target_then_it_reaches_text_only() -> None:
    rules = [
        NOTES_SCANNED,
        ["agent", "support", "contact.*", "read:mask"],
        ["agent", "support", "text:contact.phone", "*", "deny"],
    ]
    plan = plan_for(rules)

    assert text(plan, "contact.phone").kind is EffectKind.DENY
    assert text(plan, "contact.email").kind is EffectKind.MASK
    assert plan.entities["customers"].decisions["phone"].kind is EffectKind.MASK
    raw: dict[str, Any] = {"purposes": PURPOSES, "roles": {"agent": {}}, "rules": rules}
    assert validate_policy(parse(raw), default_catalog(), default_registry().names()) == []
    raw["rules"] = [["agent", "support", "text:contact.fax", "read:clear"]]
    (problem,) = validate_policy(parse(raw), default_catalog(), default_registry().names())
    assert "unknown category in text target" in str(problem)


def test_given_explicit_deny_on_category_then_it_wins_inside_text() -> None:
    plan = plan_for(
        [
            NOTES_SCANNED,
            ["agent", "support", "identity.*", "read:clear"],
            ["agent", "support", "identity.national_id", "*", "deny"],
        ]
    )

    assert text(plan, "identity.name").kind is EffectKind.CLEAR
    assert text(plan, "identity.national_id").kind is EffectKind.DENY


def test_given_named_operator_or_pseudonym_then_text_decision_carries_it() -> None:
    plan = plan_for(
        [
            NOTES_SCANNED,
            ["agent", "support", "contact.phone", "read:mask:redact"],
            ["agent", "support", "contact.email", "read:pseudonymize"],
        ]
    )

    assert (text(plan, "contact.phone").kind, text(plan, "contact.phone").operator) == (
        EffectKind.MASK,
        "redact",
    )
    assert text(plan, "contact.email").kind is EffectKind.PSEUDONYMIZE


def test_given_category_outside_purpose_then_withheld_whatever_the_rules() -> None:
    plan = plan_for([NOTES_SCANNED, ["agent", "campaigns", "*", "read:clear"]], purpose="campaigns")

    assert text(plan, "contact.phone").kind is EffectKind.CLEAR
    email = text(plan, "contact.email")
    assert (email.kind, email.reason) == (EffectKind.DENY, TEXT_OUTSIDE_PURPOSE)


def test_given_free_text_allowed_then_field_is_scanned_unless_an_operator_is_named() -> None:
    scanned = plan_for([NOTES_SCANNED])
    named = plan_for([["agent", "support", "free_text", "read:mask:redact"]])
    pseudonymized = plan_for([["agent", "support", "free_text", "read:pseudonymize"]])

    assert scanned.entities["customers"].decisions["notes"].kind is EffectKind.SCAN
    assert scanned.entities["customers"].decisions["notes"].label == "scanned"
    notes = named.entities["customers"].decisions["notes"]
    assert (notes.kind, notes.operator, notes.label) == (EffectKind.MASK, "redact", "masked")
    assert (
        pseudonymized.entities["interactions"].decisions["summary"].kind is EffectKind.PSEUDONYMIZE
    )


def test_given_no_free_text_and_no_scan_right_then_no_text_plan_is_compiled() -> None:
    assert plan_for([["agent", "support", "contact.*", "read:mask"]]).text == {}
    scan_only = plan_for([["agent", "support", "api:scan", "scan"]])
    assert scan_only.api_rights == frozenset({"scan"})
    assert set(scan_only.text) >= {"contact.phone", "identity.national_id"}


def test_given_text_plan_then_free_text_itself_and_non_personal_categories_are_absent() -> None:
    plan = plan_for([NOTES_SCANNED, ["agent", "support", "*", "read:clear"]])

    assert "free_text" not in plan.text
    assert "commercial.segment" not in plan.text
    assert text(plan, "network.ip_address").kind is EffectKind.CLEAR


@pytest.fixture(scope="module")
def default_engine() -> PolicyEngine:
    return PolicyEngine(default_policy_document(), default_catalog(), version=1)


def test_given_default_policy_then_desk_and_marketing_see_different_text(
    default_engine: PolicyEngine,
) -> None:
    desk = default_engine.plan({"customer_service"}, "customer_service")
    marketing = default_engine.plan({"marketing"}, "marketing")
    analytics = default_engine.plan({"analyst"}, "analytics")

    assert desk.text["identity.national_id"].kind is EffectKind.MASK
    assert desk.text["identity.travel_document"].kind is EffectKind.MASK
    assert marketing.text["identity.national_id"].reason == TEXT_OUTSIDE_PURPOSE
    assert marketing.text["financial.account"].reason == TEXT_OUTSIDE_PURPOSE
    for plan in (desk, marketing):
        assert plan.text["contact.phone"].kind is EffectKind.MASK
        assert plan.entities["customers"].decisions["notes"].kind is EffectKind.SCAN
    assert analytics.entities["customers"].decisions["notes"].kind is EffectKind.DENY
    assert analytics.text == {}


class CountingEngine(PolicyEngine):
    def __init__(self) -> None:
        super().__init__(default_policy_document(), default_catalog(), version=1)
        self.calls = 0

    def allows(self, role: str, purpose: str, obj: str, category: str, action: str) -> bool:
        self.calls += 1
        return super().allows(role, purpose, obj, category, action)


def test_given_plan_asked_again_then_casbin_is_not_asked_again() -> None:
    engine = CountingEngine()
    engine.plan({"customer_service"}, "customer_service")
    compiled = engine.calls
    assert compiled > 0
    for _ in range(3):
        engine.plan({"customer_service"}, "customer_service")
    assert engine.calls == compiled
