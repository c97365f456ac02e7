"""Field plans compiled by PolicyEngine: which effect each field gets for roles × purpose."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from policies.catalog import default_catalog
from policies.document import API_ACTIONS, PolicyDocument, default_policy_document
from policies.document import parse_policy_document as parse
from policies.errors import UnknownPurposeError
from policies.plan import EffectKind, FieldDecision, PolicyEngine, PolicyPlan

PURPOSES = {
    "support": {"name_zh": "客服", "name_en": "Support", "legal_basis": "contract"},
    "campaigns": {"name_zh": "营销", "name_en": "Campaigns", "legal_basis": "consent"},
}
ROLES = ("agent", "senior", "auditor", "lead")


def document(
    rules: Sequence[Sequence[str]],
    roles: Iterable[str] = ROLES,
    role_parents: Sequence[Sequence[str]] = (),
) -> PolicyDocument:
    raw: dict[str, Any] = {
        "purposes": PURPOSES,
        "roles": {role: {"description": role} for role in roles},
        "rules": [list(rule) for rule in rules],
        "role_parents": [list(pair) for pair in role_parents],
    }
    return parse(raw)


def engine(rules: Sequence[Sequence[str]], **kwargs: Any) -> PolicyEngine:
    return PolicyEngine(document(rules, **kwargs), default_catalog(), version=7)


def decision(plan: PolicyPlan, qualified: str) -> FieldDecision:
    entity, _, field_name = qualified.partition(".")
    return plan.entities[entity].decisions[field_name]


def kinds(plan: PolicyPlan) -> dict[str, EffectKind]:
    return {
        f"{entity}.{name}": d.kind
        for entity, policy in plan.entities.items()
        for name, d in policy.decisions.items()
    }


class CountingEngine(PolicyEngine):
    """A real engine that counts how often casbin is asked."""

    def __init__(self, doc: PolicyDocument) -> None:
        super().__init__(doc, default_catalog(), version=1)
        self.calls = 0

    def allows(self, role: str, purpose: str, obj: str, category: str, action: str) -> bool:
        self.calls += 1
        return super().allows(role, purpose, obj, category, action)


# --- deny, precedence and targets -------------------------------------------------------


def test_given_category_pattern_allow_and_field_category_deny_then_deny_wins() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.*", "read:clear"],
            ["agent", "support", "contact.phone", "*", "deny"],
        ]
    ).plan({"agent"}, "support")

    assert decision(plan, "customers.phone").kind is EffectKind.DENY
    assert decision(plan, "customers.email").kind is EffectKind.CLEAR
    assert decision(plan, "customers.address").kind is EffectKind.CLEAR
    assert "phone" not in {d.field.name for d in plan.entities["customers"].visible}


def test_given_deny_listed_before_allow_then_deny_still_wins() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.phone", "*", "deny"],
            ["agent", "support", "contact.phone", "read:clear"],
        ]
    ).plan({"agent"}, "support")

    assert decision(plan, "customers.phone").kind is EffectKind.DENY


def test_given_deny_of_clear_only_then_field_falls_back_to_mask() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.phone", "read:*"],
            ["agent", "support", "contact.phone", "read:clear", "deny"],
        ]
    ).plan({"agent"}, "support")

    assert decision(plan, "customers.phone").kind is EffectKind.MASK


def test_given_deny_on_parent_role_then_child_allow_does_not_override_it() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.phone", "*", "deny"],
            ["senior", "support", "contact.phone", "read:clear"],
        ],
        role_parents=[["senior", "agent"]],
    ).plan({"senior"}, "support")

    assert decision(plan, "customers.phone").kind is EffectKind.DENY


def test_given_one_role_denies_and_another_allows_then_deny_wins() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.phone", "read:clear"],
            ["auditor", "support", "contact.phone", "*", "deny"],
        ]
    ).plan({"agent", "auditor"}, "support")

    assert decision(plan, "customers.phone").kind is EffectKind.DENY


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ({"agent", "senior", "auditor"}, EffectKind.CLEAR),
        ({"agent", "auditor"}, EffectKind.MASK),
        ({"senior", "auditor"}, EffectKind.CLEAR),
        ({"auditor"}, EffectKind.PSEUDONYMIZE),
        ({"lead"}, EffectKind.DENY),
    ],
)
def test_given_several_roles_then_most_permissive_effect_wins(
    roles: set[str], expected: EffectKind
) -> None:
    eng = engine(
        [
            ["agent", "support", "contact.phone", "read:mask"],
            ["senior", "support", "contact.phone", "read:clear"],
            ["auditor", "support", "contact.phone", "read:pseudonymize"],
        ]
    )

    assert decision(eng.plan(roles, "support"), "customers.phone").kind is expected


def test_given_one_role_with_several_allows_then_most_permissive_wins() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.phone", "read:pseudonymize"],
            ["agent", "support", "contact.phone", "read:clear"],
            ["agent", "support", "contact.phone", "read:mask"],
        ]
    ).plan({"agent"}, "support")

    assert decision(plan, "customers.phone").kind is EffectKind.CLEAR


def test_given_rule_on_one_field_then_other_fields_of_its_category_stay_denied() -> None:
    plan = engine([["agent", "support", "customers.address", "read:clear"]]).plan(
        {"agent"}, "support"
    )

    assert decision(plan, "customers.address").kind is EffectKind.CLEAR
    assert decision(plan, "orders.delivery_address").kind is EffectKind.DENY
    assert [name for name, kind in kinds(plan).items() if kind is not EffectKind.DENY] == [
        "customers.address"
    ]


def test_given_rule_on_category_then_it_applies_to_that_category_in_every_entity() -> None:
    plan = engine([["agent", "support", "contact.address", "read:mask"]]).plan({"agent"}, "support")

    visible = {name for name, kind in kinds(plan).items() if kind is not EffectKind.DENY}
    assert visible == {"customers.address", "orders.delivery_address"}


def test_given_field_deny_and_category_allow_then_only_that_field_is_denied() -> None:
    plan = engine(
        [
            ["agent", "support", "free_text", "read:clear"],
            ["agent", "support", "customers.notes", "*", "deny"],
        ]
    ).plan({"agent"}, "support")

    assert decision(plan, "customers.notes").kind is EffectKind.DENY
    # Free text is never shown as stored: allowed means scanned.
    assert decision(plan, "interactions.summary").kind is EffectKind.SCAN


# --- masking operators ------------------------------------------------------------------


def test_given_mask_with_operator_then_decision_keeps_the_operator() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.phone", "read:mask:redact"],
            ["agent", "support", "contact.email", "read:mask"],
        ]
    ).plan({"agent"}, "support")

    phone = decision(plan, "customers.phone")
    email = decision(plan, "customers.email")
    assert (phone.kind, phone.operator) == (EffectKind.MASK, "redact")
    assert (email.kind, email.operator) == (EffectKind.MASK, None)
    assert phone.label == email.label == "masked"


def test_given_operator_used_for_one_field_then_other_masked_fields_do_not_get_it() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.phone", "read:mask:partial"],
            ["agent", "support", "contact.*", "read:mask"],
        ]
    ).plan({"agent"}, "support")

    assert decision(plan, "customers.phone").operator == "partial"
    assert decision(plan, "customers.email").operator is None
    assert decision(plan, "customers.address").operator is None


def test_given_clear_and_mask_with_operator_then_clear_wins_without_operator() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.phone", "read:mask:redact"],
            ["senior", "support", "contact.phone", "read:clear"],
        ]
    ).plan({"agent", "senior"}, "support")

    phone = decision(plan, "customers.phone")
    assert (phone.kind, phone.operator) == (EffectKind.CLEAR, None)


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (EffectKind.CLEAR, "clear"),
        (EffectKind.MASK, "masked"),
        (EffectKind.PSEUDONYMIZE, "pseudonymized"),
        (EffectKind.DENY, "withheld:denied"),
    ],
)
def test_given_effect_kind_then_governance_label_names_it(kind: EffectKind, label: str) -> None:
    spec = default_catalog().entity("customers").field("phone")
    assert FieldDecision(field=spec, kind=kind).label == label


# --- roles and purposes -----------------------------------------------------------------


def test_given_unknown_role_then_every_field_is_denied_and_nothing_is_granted() -> None:
    plan = engine([["agent", "support", "*", "*"]]).plan({"intruder"}, "support")

    assert set(kinds(plan).values()) == {EffectKind.DENY}
    assert all(not policy.writable for policy in plan.entities.values())
    assert plan.api_rights == frozenset()
    assert plan.roles == frozenset()


def test_given_rules_for_an_undeclared_role_then_that_role_gets_nothing() -> None:
    eng = engine([["ghost", "support", "contact.phone", "read:clear"]], roles=("agent",))

    plan = eng.plan({"ghost"}, "support")

    assert decision(plan, "customers.phone").kind is EffectKind.DENY


def test_given_known_and_unknown_roles_then_plan_keeps_only_the_known_ones() -> None:
    plan = engine([["agent", "support", "contact.phone", "read:mask"]]).plan(
        {"agent", "intruder"}, "support"
    )

    assert plan.roles == frozenset({"agent"})
    assert decision(plan, "customers.phone").kind is EffectKind.MASK


def test_given_no_roles_then_every_field_is_denied() -> None:
    plan = engine([["agent", "support", "*", "*"]]).plan(set(), "support")

    assert set(kinds(plan).values()) == {EffectKind.DENY}


def test_given_unknown_purpose_then_plan_raises_unknown_purpose() -> None:
    eng = engine([["agent", "*", "*", "*"]])

    with pytest.raises(UnknownPurposeError, match="'research'"):
        eng.plan({"agent"}, "research")


def test_given_rule_for_another_purpose_then_field_is_denied() -> None:
    plan = engine([["agent", "campaigns", "contact.phone", "read:clear"]]).plan(
        {"agent"}, "support"
    )

    assert decision(plan, "customers.phone").kind is EffectKind.DENY


def test_given_wildcard_purpose_then_rule_applies_under_every_declared_purpose() -> None:
    eng = engine([["agent", "*", "contact.phone", "read:clear"]])

    for purpose in PURPOSES:
        plan = eng.plan({"agent"}, purpose)
        assert decision(plan, "customers.phone").kind is EffectKind.CLEAR
        assert plan.purpose == purpose
    with pytest.raises(UnknownPurposeError):
        eng.plan({"agent"}, "undeclared")


def test_given_role_parent_then_child_inherits_parent_rules_but_not_reverse() -> None:
    eng = engine(
        [
            ["agent", "support", "contact.email", "read:mask"],
            ["senior", "support", "contact.phone", "read:clear"],
        ],
        role_parents=[["senior", "agent"]],
    )

    senior = eng.plan({"senior"}, "support")
    agent = eng.plan({"agent"}, "support")

    assert decision(senior, "customers.email").kind is EffectKind.MASK
    assert decision(senior, "customers.phone").kind is EffectKind.CLEAR
    assert decision(agent, "customers.email").kind is EffectKind.MASK
    assert decision(agent, "customers.phone").kind is EffectKind.DENY


def test_given_chain_of_role_parents_then_inheritance_is_transitive() -> None:
    eng = engine(
        [["agent", "support", "identity.name", "read:pseudonymize"]],
        role_parents=[["lead", "senior"], ["senior", "agent"]],
    )

    assert decision(eng.plan({"lead"}, "support"), "customers.name").kind is (
        EffectKind.PSEUDONYMIZE
    )


def test_given_child_role_with_stronger_allow_then_it_beats_inherited_mask() -> None:
    eng = engine(
        [
            ["agent", "support", "contact.phone", "read:mask"],
            ["senior", "support", "contact.phone", "read:clear"],
        ],
        role_parents=[["senior", "agent"]],
    )

    assert decision(eng.plan({"senior"}, "support"), "customers.phone").kind is EffectKind.CLEAR


# --- writes and APIs --------------------------------------------------------------------


def test_given_write_on_everything_then_writable_excludes_non_writable_catalog_fields() -> None:
    plan = engine([["agent", "support", "*", "write"]]).plan({"agent"}, "support")
    catalog = default_catalog()

    for entity in catalog.entities.values():
        expected = {spec.name for spec in entity.fields if spec.writable}
        assert plan.entities[entity.name].writable == expected
    assert "id" not in plan.entities["customers"].writable
    assert "customer_id" not in plan.entities["orders"].writable
    assert "phone" in plan.entities["customers"].writable


def test_given_write_rules_then_only_their_fields_are_writable_and_not_readable() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.*", "write"],
            ["agent", "support", "identity.customer_id", "write"],
        ]
    ).plan({"agent"}, "support")

    assert plan.entities["customers"].writable == {"phone", "email", "address"}
    assert plan.entities["orders"].writable == {"delivery_address"}
    assert plan.entities["interactions"].writable == frozenset()
    assert decision(plan, "customers.phone").kind is EffectKind.DENY


def test_given_read_rule_only_then_nothing_is_writable() -> None:
    plan = engine([["agent", "support", "*", "read:clear"]]).plan({"agent"}, "support")

    assert all(not policy.writable for policy in plan.entities.values())
    # Everything is shown: as stored, or (free text) scanned.
    assert set(kinds(plan).values()) == {EffectKind.CLEAR, EffectKind.SCAN}


def test_given_write_allow_and_deny_on_a_field_then_it_is_not_writable() -> None:
    plan = engine(
        [
            ["agent", "support", "contact.*", "write"],
            ["agent", "support", "contact.phone", "write", "deny"],
        ]
    ).plan({"agent"}, "support")

    assert plan.entities["customers"].writable == {"email", "address"}


def test_given_api_rules_then_api_rights_hold_exactly_the_granted_actions() -> None:
    eng = engine(
        [
            ["auditor", "support", "api:audit", "audit:read"],
            ["lead", "support", "api:*", "policy:admin"],
            ["agent", "campaigns", "api:audit", "audit:read"],
        ]
    )

    assert eng.plan({"auditor"}, "support").api_rights == {"audit:read"}
    assert eng.plan({"lead"}, "support").api_rights == {"policy:admin"}
    assert eng.plan({"auditor", "lead"}, "support").api_rights == {"audit:read", "policy:admin"}
    assert eng.plan({"agent"}, "support").api_rights == frozenset()
    assert eng.plan({"agent"}, "campaigns").api_rights == {"audit:read"}


def test_given_field_rules_only_then_no_api_rights() -> None:
    plan = engine([["agent", "support", "contact.*", "*"]]).plan({"agent"}, "support")

    assert plan.api_rights == frozenset()


def test_given_consent_read_on_one_purpose_then_only_that_purposes_records_are_readable() -> None:
    plan = engine([["agent", "support", "consent:campaigns", "consent:read"]]).plan(
        {"agent"}, "support"
    )

    assert plan.consent_readable == {"campaigns"}
    assert plan.consent_purposes == frozenset(), "reading is not recording"
    assert "consent:read" not in plan.api_rights, "one purpose, not the consent API at large"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (["lead", "support", "api:consent", "consent:read"], set(PURPOSES)),
        (["lead", "support", "api:consent", "*"], set(PURPOSES)),
        (["lead", "support", "api:*", "*"], set(PURPOSES)),
        (["lead", "campaigns", "api:consent", "consent:read"], set()),
    ],
    ids=["inherited", "inherited-any-action", "inherited-any-api", "other-purpose"],
)
def test_given_consent_rights_through_a_parent_role_then_they_count(
    rule: list[str], expected: set[str]
) -> None:
    """The shortcut that skips casbin for roles naming no consent action must still see
    rules inherited from parent roles, and `*` actions."""
    policy = engine(
        [["senior", "support", "contact.*", "read:mask"], rule],
        role_parents=[["senior", "agent"], ["agent", "lead"]],
    )

    plan = policy.plan({"senior"}, "support")

    assert plan.consent_readable == expected
    assert plan.consent_purposes == (expected if rule[3] != "consent:read" else set())


def test_given_consent_read_on_the_api_then_every_purposes_records_but_no_evidence() -> None:
    plan = engine([["agent", "support", "api:consent", "consent:read"]]).plan({"agent"}, "support")

    assert plan.consent_readable == set(PURPOSES)
    assert plan.api_rights == frozenset({"consent:read"})


def test_given_api_wildcard_action_then_every_api_right_is_granted() -> None:
    plan = engine([["lead", "support", "api:*", "*"]]).plan({"lead"}, "support")

    assert plan.api_rights == frozenset(API_ACTIONS)
    assert set(kinds(plan).values()) == {EffectKind.DENY}


def test_given_api_wildcard_allow_and_deny_of_one_api_then_that_api_is_not_granted() -> None:
    plan = engine(
        [
            ["lead", "support", "api:*", "*"],
            ["lead", "support", "api:audit", "*", "deny"],
        ]
    ).plan({"lead"}, "support")

    assert "audit:read" not in plan.api_rights


def test_given_api_wildcard_deny_and_allow_of_one_api_then_that_api_is_not_granted() -> None:
    plan = engine(
        [
            ["lead", "support", "api:audit", "audit:read"],
            ["lead", "support", "api:*", "*", "deny"],
        ]
    ).plan({"lead"}, "support")

    assert plan.api_rights == frozenset()


# --- plan cache -------------------------------------------------------------------------


def test_given_same_roles_and_purpose_then_plan_is_cached_and_casbin_not_asked_again() -> None:
    eng = CountingEngine(document([["agent", "support", "contact.*", "read:mask"]]))

    first = eng.plan({"agent"}, "support")
    calls_after_first = eng.calls
    second = eng.plan(["agent"], "support")

    assert calls_after_first > 0
    assert second is first
    assert eng.calls == calls_after_first


def test_given_other_purpose_or_roles_then_a_new_plan_is_compiled() -> None:
    eng = CountingEngine(document([["agent", "*", "contact.*", "read:mask"]]))
    first = eng.plan({"agent"}, "support")
    calls = eng.calls

    other_purpose = eng.plan({"agent"}, "campaigns")
    assert other_purpose is not first
    assert eng.calls > calls

    calls = eng.calls
    other_roles = eng.plan({"agent", "senior"}, "support")
    assert other_roles is not first
    assert eng.calls > calls


def test_given_plan_then_it_carries_the_engine_version() -> None:
    plan = engine([]).plan({"agent"}, "support")

    assert plan.version == 7
    assert plan.purpose == "support"


# --- the shipped default policy ---------------------------------------------------------


@pytest.fixture(scope="module")
def default_engine() -> PolicyEngine:
    return PolicyEngine(default_policy_document(), default_catalog(), version=1)


def test_given_default_policy_then_customer_service_sees_phone_masked_notes_scanned(
    default_engine: PolicyEngine,
) -> None:
    plan = default_engine.plan({"customer_service"}, "customer_service")

    phone = decision(plan, "customers.phone")
    assert (phone.kind, phone.operator) == (EffectKind.MASK, None)
    assert decision(plan, "customers.notes").kind is EffectKind.SCAN
    assert decision(plan, "interactions.summary").kind is EffectKind.SCAN
    assert decision(plan, "customers.id").kind is EffectKind.CLEAR
    assert decision(plan, "customers.tier").kind is EffectKind.CLEAR
    assert plan.entities["customers"].writable == {
        "name",
        "id_number",
        "phone",
        "email",
        "address",
        "bank_card",
        "birth_date",
        "region",
        "tier",
        "notes",
    }
    # The desk records consents taken on the phone (and reads them, every purpose's, but
    # not their evidence), checks texts for PII and files data subjects' requests.
    assert plan.api_rights == frozenset({"consent:write", "consent:read", "scan", "dsr:file"})
    assert plan.consent_readable == set(default_engine.document.purposes)


def test_given_default_policy_then_marketing_is_denied_identity_documents_and_accounts(
    default_engine: PolicyEngine,
) -> None:
    plan = default_engine.plan({"marketing"}, "marketing")

    assert decision(plan, "customers.id_number").kind is EffectKind.DENY
    assert decision(plan, "customers.bank_card").kind is EffectKind.DENY
    assert decision(plan, "customers.address").kind is EffectKind.DENY
    assert decision(plan, "customers.phone").kind is EffectKind.MASK
    assert decision(plan, "customers.region").kind is EffectKind.CLEAR
    assert all(not policy.writable for policy in plan.entities.values())


def test_given_default_policy_then_analyst_sees_pseudonymized_ids_and_no_contact_data(
    default_engine: PolicyEngine,
) -> None:
    plan = default_engine.plan({"analyst"}, "analytics")

    assert decision(plan, "customers.id").kind is EffectKind.PSEUDONYMIZE
    assert decision(plan, "orders.customer_id").kind is EffectKind.PSEUDONYMIZE
    for field_name in ("name", "id_number", "phone", "email", "address", "bank_card", "notes"):
        assert decision(plan, f"customers.{field_name}").kind is EffectKind.DENY
    assert decision(plan, "customers.birth_date").kind is EffectKind.MASK


def test_given_default_policy_then_role_outside_its_purpose_gets_nothing(
    default_engine: PolicyEngine,
) -> None:
    plan = default_engine.plan({"customer_service"}, "marketing")

    assert set(kinds(plan).values()) == {EffectKind.DENY}


@pytest.mark.parametrize(
    ("role", "purpose", "rights"),
    [
        (
            "compliance",
            "compliance_audit",
            {
                "audit:read",
                "scan",
                "consent:read",
                "consent:evidence",
                "legal_hold:read",
                "console",
            },
        ),
        ("security_admin", "policy_admin", {"policy:admin", "console"}),
        (
            "dpo",
            "data_subject_request",
            {"legal_hold:write", "legal_hold:read", "dsr:file", "dsr:handle", "erase", "console"},
        ),
    ],
)
def test_given_default_policy_then_admin_roles_get_their_api_and_no_customer_fields(
    default_engine: PolicyEngine, role: str, purpose: str, rights: set[str]
) -> None:
    plan = default_engine.plan({role}, purpose)

    assert plan.api_rights == rights
    assert set(kinds(plan).values()) == {EffectKind.DENY}
