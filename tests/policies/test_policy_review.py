"""Reviewing a change: structural problems, sensitive data in clear, separation of duties,
self-grants — all from compiled decisions on the candidate document."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.db.init_store import with_demo_principals
from masking.registry import default_registry
from policies.catalog import default_catalog
from policies.document import PolicyDocument, PrincipalSpec, Rule, RuleEffect
from policies.document import default_policy_document as default
from policies.review import review_change, self_grants

OPERATORS = default_registry().names()


def base() -> PolicyDocument:
    return with_demo_principals(default())


def with_rules(document: PolicyDocument, *rules: Rule) -> PolicyDocument:
    return replace(document, rules=(*document.rules, *rules))


def review(
    candidate: PolicyDocument, *, acknowledged: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    problems = review_change(
        base(), candidate, default_catalog(), OPERATORS, acknowledged=acknowledged
    )
    return [(p.where, p.reason) for p in problems]


def test_given_the_default_policy_with_demo_principals_then_the_review_is_clean() -> None:
    assert review(base()) == []


def test_given_every_kind_of_unknown_name_then_each_is_reported_with_its_place() -> None:
    candidate = with_rules(
        base(),
        Rule("ghost", "marketing", "contact.phone", "read:mask"),
        Rule("marketing", "nowhere", "contact.phone", "read:mask"),
        Rule("marketing", "marketing", "customers.shoe_size", "read:mask"),
        Rule("marketing", "marketing", "medical.record", "read:mask"),
        Rule("marketing", "marketing", "contact.phone", "read:mask:scramble"),
    )
    principals = dict(candidate.principals)
    principals["marketing-app"] = PrincipalSpec(frozenset({"phantom"}), frozenset({"fishing"}))
    candidate = replace(candidate, principals=principals)
    n = len(base().rules)

    assert review(candidate) == [
        (f"rules[{n}]", "unknown_role"),
        (f"rules[{n + 1}]", "unknown_purpose"),
        (f"rules[{n + 2}]", "unknown_field"),
        (f"rules[{n + 3}]", "unknown_category"),
        (f"rules[{n + 4}]", "unknown_operator"),
        ("principals.marketing-app.roles", "unknown_role"),
        ("principals.marketing-app.purposes", "unknown_purpose"),
    ]


def test_given_clear_id_numbers_under_a_consent_purpose_then_no_acknowledgement_is_needed() -> None:
    # Marketing's basis is consent: id_number needs separate consent on every read.
    candidate = with_rules(
        replace(base(), rules=tuple(r for r in base().rules if r.effect is RuleEffect.ALLOW)),
        Rule("marketing", "marketing", "identity.national_id", "read:clear"),
    )
    problems = review_change(base(), candidate, default_catalog(), OPERATORS)

    assert [p.reason for p in problems] == []


def test_given_clear_sensitive_read_under_a_purpose_without_separate_consent_then_refused() -> None:
    # compliance_audit rests on a legal obligation: no consent gate would hold id_number back.
    purposes = dict(base().purposes)
    purposes["compliance_audit"] = replace(
        purposes["compliance_audit"], categories=frozenset({"*"})
    )
    doc = replace(base(), purposes=purposes)
    candidate = with_rules(doc, Rule("compliance", "compliance_audit", "identity.*", "read:clear"))

    problems = review_change(doc, candidate, default_catalog(), OPERATORS)

    # identity.* reaches the ID number column and, inside notes, the ID number and the
    # travel documents (a category no column carries).
    assert [(p.where, p.reason) for p in problems] == [
        ("rules", "sensitive_clear_unacknowledged"),
        ("rules", "sensitive_clear_unacknowledged"),
    ]
    national = "sensitive_clear:compliance:compliance_audit:identity.national_id"
    travel = "sensitive_clear:compliance:compliance_audit:identity.travel_document"
    assert national in problems[0].message
    assert "in clear (customers.id_number, free text)" in problems[0].message
    assert travel in problems[1].message
    assert "in clear (free text)" in problems[1].message
    acknowledged = [national, travel]
    assert review_change(doc, candidate, default_catalog(), OPERATORS, acknowledged=[national])
    assert (
        review_change(doc, candidate, default_catalog(), OPERATORS, acknowledged=acknowledged) == []
    )


def test_given_sensitive_category_outside_the_purpose_then_clear_is_not_an_exposure() -> None:
    # compliance_audit covers identity.customer_id only: id_number stays `outside_purpose`.
    candidate = with_rules(
        base(), Rule("compliance", "compliance_audit", "identity.*", "read:clear")
    )

    assert review(candidate) == []


def test_given_a_wildcard_rule_then_exposures_are_found_through_the_compiled_plan() -> None:
    purposes = dict(base().purposes)
    purposes["erasure"] = replace(purposes["erasure"], categories=frozenset({"*"}))
    doc = replace(base(), purposes=purposes)
    candidate = with_rules(doc, Rule("compliance", "*", "*", "read:*"))

    problems = review_change(doc, candidate, default_catalog(), OPERATORS)
    tokens = sorted(p.message.split("acknowledge ")[1] for p in problems)

    assert tokens == [
        "'sensitive_clear:compliance:erasure:financial.account' to apply",
        "'sensitive_clear:compliance:erasure:identity.national_id' to apply",
        "'sensitive_clear:compliance:erasure:identity.travel_document' to apply",
    ]


def legal_obligation_purpose_of_everything() -> PolicyDocument:
    """compliance_audit widened to every category: a basis with no consent gate."""
    purposes = dict(base().purposes)
    purposes["compliance_audit"] = replace(
        purposes["compliance_audit"], categories=frozenset({"*"})
    )
    return replace(base(), purposes=purposes)


TRAVEL = "sensitive_clear:compliance:compliance_audit:identity.travel_document"


@pytest.mark.parametrize(
    "rule",
    [
        Rule("compliance", "compliance_audit", "text:identity.travel_document", "read:clear"),
        Rule("compliance", "compliance_audit", "identity.travel_document", "read:clear"),
        Rule("compliance", "compliance_audit", "identity.travel_*", "read:*"),
    ],
    ids=["text-rule", "category-rule", "pattern-rule"],
)
def test_given_clear_text_only_sensitive_category_then_refused_unless_acknowledged(
    rule: Rule,
) -> None:
    """identity.travel_document has no column: only the text plan can expose it."""
    doc = legal_obligation_purpose_of_everything()
    candidate = with_rules(doc, rule)

    problems = review_change(doc, candidate, default_catalog(), OPERATORS)

    assert [(p.where, p.reason) for p in problems] == [("rules", "sensitive_clear_unacknowledged")]
    assert TRAVEL in problems[0].message
    assert "(free text)" in problems[0].message
    assert review_change(doc, candidate, default_catalog(), OPERATORS, acknowledged=[TRAVEL]) == []


def test_given_text_rule_on_a_sensitive_column_category_then_refused_as_the_column_would_be() -> (
    None
):
    doc = legal_obligation_purpose_of_everything()
    candidate = with_rules(
        doc, Rule("compliance", "compliance_audit", "text:financial.account", "read:clear")
    )

    problems = review_change(doc, candidate, default_catalog(), OPERATORS)

    assert [(p.where, p.reason) for p in problems] == [("rules", "sensitive_clear_unacknowledged")]
    assert "sensitive_clear:compliance:compliance_audit:financial.account" in problems[0].message
    assert "(free text)" in problems[0].message


@pytest.mark.parametrize(
    ("doc", "rule"),
    [
        # Masked inside text: no clear read.
        (
            legal_obligation_purpose_of_everything(),
            Rule("compliance", "compliance_audit", "text:identity.travel_document", "read:mask"),
        ),
        # compliance_audit covers identity.customer_id only: outside_purpose in text too.
        (
            base(),
            Rule("compliance", "compliance_audit", "text:identity.travel_document", "read:clear"),
        ),
        # Customer service (contract) gates sensitive data, in text too, by separate consent.
        (
            base(),
            Rule("customer_service", "customer_service", "identity.travel_document", "read:clear"),
        ),
    ],
    ids=["masked", "outside-purpose", "consent-gated"],
)
def test_given_text_category_not_shown_in_clear_without_consent_then_no_acknowledgement(
    doc: PolicyDocument, rule: Rule
) -> None:
    assert review_change(doc, with_rules(doc, rule), default_catalog(), OPERATORS) == []


def test_given_text_exposure_already_in_the_base_then_a_later_change_needs_no_acknowledgement() -> (
    None
):
    doc = legal_obligation_purpose_of_everything()
    exposed = with_rules(
        doc, Rule("compliance", "compliance_audit", "text:identity.travel_document", "read:clear")
    )
    later = with_rules(
        exposed, Rule("compliance", "compliance_audit", "demographic.region", "read:clear")
    )

    assert review_change(exposed, later, default_catalog(), OPERATORS) == []


@pytest.mark.parametrize(
    ("rule", "principal_reaches_it"),
    [
        (Rule("security_admin", "policy_admin", "identity.customer_id", "read:pseudonymize"), True),
        (Rule("security_admin", "*", "contact.*", "read:mask"), True),
        (Rule("security_admin", "compliance_audit", "api:audit", "audit:read"), False),
        (Rule("security_admin", "policy_admin", "api:consent", "consent:read"), True),
        (Rule("security_admin", "policy_admin", "consent:marketing", "consent:read"), True),
        (Rule("security_admin", "policy_admin", "api:consent", "consent:evidence"), True),
    ],
    ids=[
        "field-read-same-purpose",
        "field-read-any-purpose",
        "audit-read-other-purpose",
        "consent-records",
        "one-purposes-consent-records",
        "consent-evidence",
    ],
)
def test_given_policy_admin_role_gains_reads_then_separation_of_duties_refuses(
    rule: Rule, principal_reaches_it: bool
) -> None:
    problems = review(with_rules(base(), rule))

    # The role is refused under any purpose; the principal (allowed only policy_admin)
    # is named as well when it could use the new right.
    assert ("roles.security_admin", "separation_of_duties") in problems
    assert (("principals.security-admin", "separation_of_duties") in problems) is (
        principal_reaches_it
    )


def test_given_two_roles_that_combine_admin_and_audit_in_one_principal_then_refused() -> None:
    principals = dict(base().principals)
    principals["security-admin"] = PrincipalSpec(
        frozenset({"security_admin", "compliance"}),
        frozenset({"policy_admin", "compliance_audit"}),
    )

    problems = review(replace(base(), principals=principals))

    assert problems == [("principals.security-admin", "separation_of_duties")]


def test_given_admin_role_inheriting_a_data_role_then_refused() -> None:
    candidate = replace(base(), role_parents=(("security_admin", "marketing"),))

    assert ("roles.security_admin", "separation_of_duties") in review(candidate)


def test_given_a_principal_gains_a_role_then_self_grant_names_it() -> None:
    principals = dict(base().principals)
    spec = principals["security-admin"]
    principals["security-admin"] = replace(spec, purposes=spec.purposes | {"analytics"})

    grants = self_grants(
        base(), replace(base(), principals=principals), default_catalog(), "security-admin"
    )

    assert grants == ["purpose 'analytics'"]


def test_given_a_rule_widening_the_actors_own_role_then_self_grant_names_the_right() -> None:
    candidate = with_rules(base(), Rule("security_admin", "policy_admin", "api:erase", "erase"))

    grants = self_grants(base(), candidate, default_catalog(), "security-admin")

    assert grants == ["api right 'erase' under 'policy_admin'"]
    assert self_grants(base(), candidate, default_catalog(), "support-desk") == []


def test_given_the_last_policy_admin_removed_then_refused() -> None:
    principals = {p: s for p, s in base().principals.items() if p != "security-admin"}

    problems = review(replace(base(), principals=principals))

    assert problems == [("principals", "last_policy_admin")]


def test_given_another_admin_remains_then_removing_one_is_fine() -> None:
    principals = dict(base().principals)
    principals["second-admin"] = PrincipalSpec(
        frozenset({"security_admin"}), frozenset({"policy_admin"})
    )
    doc = replace(base(), principals=principals)
    without = {p: s for p, s in principals.items() if p != "security-admin"}

    problems = review_change(doc, replace(doc, principals=without), default_catalog(), OPERATORS)

    assert problems == []
