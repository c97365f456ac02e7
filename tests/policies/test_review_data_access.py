"""Which principals reach customer data or the audit log (and so get their keys from the
operator, never from a policy administrator) — decided on compiled plans."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.db.init_store import with_demo_principals
from policies.catalog import default_catalog
from policies.document import PolicyDocument, PrincipalSpec, Rule, RuleEffect
from policies.document import default_policy_document as default
from policies.plan import PolicyEngine
from policies.review import principal_data_access, principals_gaining_data_access


def document(**extra: PrincipalSpec) -> PolicyDocument:
    demo = with_demo_principals(default())
    return replace(demo, principals={**demo.principals, **extra})


def engine(doc: PolicyDocument) -> PolicyEngine:
    return PolicyEngine(doc, default_catalog(), 1)


def spec(roles: set[str], purposes: set[str]) -> PrincipalSpec:
    return PrincipalSpec(frozenset(roles), frozenset(purposes))


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        ("support-desk", "read customers under 'customer_service'"),
        ("marketing-app", "read customers under 'marketing'"),
        ("analytics-job", "read customers under 'analytics'"),
        # No customer field, but the audit log (and erasure): a data principal too.
        ("compliance-officer", "api right 'audit:read' under 'compliance_audit'"),
    ],
)
def test_given_a_demo_data_principal_then_its_access_is_named(
    principal: str, expected: str
) -> None:
    assert expected in principal_data_access(engine(document()), principal)


@pytest.mark.parametrize(
    "extra",
    [
        spec({"security_admin"}, {"policy_admin"}),
        spec(set(), set()),
        # A data role under a purpose it holds no rules for reaches nothing.
        spec({"customer_service"}, {"policy_admin"}),
        spec({"ghost_role"}, {"customer_service"}),
    ],
    ids=["second-admin", "no-roles", "role-under-foreign-purpose", "unknown-role"],
)
def test_given_a_principal_without_data_rights_then_no_access(extra: PrincipalSpec) -> None:
    doc = document(x=extra)

    assert principal_data_access(engine(doc), "x") == []
    assert principal_data_access(engine(doc), "security-admin") == []
    assert principal_data_access(engine(doc), "not-in-the-policy") == []


def test_given_only_the_scan_api_then_it_counts_as_data_access() -> None:
    doc = document(x=spec({"scanner"}, {"customer_service"}))
    doc = replace(
        doc,
        roles={**doc.roles, "scanner": "scans text"},
        rules=(*doc.rules, Rule("scanner", "customer_service", "api:scan", "scan")),
    )

    assert principal_data_access(engine(doc), "x") == ["api right 'scan' under 'customer_service'"]


def test_given_a_role_gaining_reads_then_its_key_holders_gain_data_access() -> None:
    before = document(x=spec({"security_admin"}, {"policy_admin"}), y=spec(set(), set()))
    after = replace(
        before,
        principals={**before.principals, "y": spec({"analyst"}, {"analytics"})},
    )

    gaining = principals_gaining_data_access(engine(before), engine(after), {"x", "y", "nobody"})

    assert gaining == ["y"]
    # Who already had access does not "gain" it; who is absent from the base does.
    assert principals_gaining_data_access(engine(before), engine(after), {"support-desk"}) == []
    assert principals_gaining_data_access(None, engine(after), {"y", "x"}) == ["y"]


def test_given_a_deny_rule_then_access_is_judged_as_the_engine_decides() -> None:
    doc = document()
    # The allow rules stay; one explicit deny on every category wins over all of them.
    denied = replace(
        doc, rules=(*doc.rules, Rule("analyst", "analytics", "*", "*", RuleEffect.DENY))
    )

    assert principal_data_access(engine(denied), "analytics-job") == []
    assert principals_gaining_data_access(engine(denied), engine(doc), {"analytics-job"}) == [
        "analytics-job"
    ]
