"""Structured diffs between policy documents: JSON, text and audit fields."""

from __future__ import annotations

import json
from dataclasses import replace

from gateway.db.init_store import with_demo_principals
from policies.diff import diff_documents
from policies.document import PolicyDocument, PrincipalSpec, Rule, RuleEffect
from policies.document import default_policy_document as default


def base() -> PolicyDocument:
    return with_demo_principals(default())


def test_given_identical_documents_then_the_diff_is_empty() -> None:
    diff = diff_documents(base(), base())

    assert diff.empty
    assert diff.text() == "(no change)"
    assert diff.audit_fields() == {}


def test_given_a_rule_replaced_then_one_is_added_and_one_removed() -> None:
    before = base()
    old = Rule("marketing", "marketing", "contact.phone", "read:mask")
    new = Rule("marketing", "marketing", "contact.phone", "*", RuleEffect.DENY)
    after = replace(before, rules=tuple(new if r == old else r for r in before.rules))

    diff = diff_documents(before, after)

    assert diff.rules.added == (("marketing", "marketing", "contact.phone", "*", "deny"),)
    assert diff.rules.removed == (
        ("marketing", "marketing", "contact.phone", "read:mask", "allow"),
    )
    assert (bool(diff.roles), bool(diff.principals), bool(diff.purposes)) == (False, False, False)
    assert diff.lines() == [
        "+ rule [marketing, marketing, contact.phone, *, deny]",
        "- rule [marketing, marketing, contact.phone, read:mask, allow]",
    ]
    assert diff.audit_fields() == {
        "rule:marketing|marketing|contact.phone|*|deny": "added",
        "rule:marketing|marketing|contact.phone|read:mask|allow": "removed",
    }


def test_given_rules_only_reordered_then_nothing_changed() -> None:
    before = base()
    after = replace(before, rules=tuple(reversed(before.rules)))

    assert diff_documents(before, after).empty


def test_given_principal_roles_changed_then_the_attribute_change_is_named() -> None:
    before = base()
    principals = dict(before.principals)
    desk = principals["support-desk"]
    principals["support-desk"] = replace(
        desk, roles=desk.roles | {"analyst"}, description="secret free text"
    )
    principals["new-app"] = PrincipalSpec(frozenset({"analyst"}), frozenset({"analytics"}))
    del principals["marketing-app"]
    after = replace(before, principals=principals)

    diff = diff_documents(before, after)

    assert list(diff.principals.added) == ["new-app"]
    assert list(diff.principals.removed) == ["marketing-app"]
    change = diff.principals.changed["support-desk"]
    assert change["roles"] == {
        "before": ["customer_service"],
        "after": ["analyst", "customer_service"],
    }
    fields = diff.audit_fields()
    assert (
        fields["principal:support-desk.roles"]
        == "[customer_service] -> [analyst, customer_service]"
    )
    # Free-text descriptions are not copied into the append-only log.
    assert fields["principal:support-desk.description"] == "changed"
    assert "secret free text" not in json.dumps(fields)
    assert fields["principal:new-app"] == "added"
    assert fields["principal:marketing-app"] == "removed"


def test_given_roles_purposes_and_parents_changed_then_every_section_reports_it() -> None:
    before = base()
    purposes = dict(before.purposes)
    purposes["marketing"] = replace(purposes["marketing"], retention_days=365)
    after = replace(
        before,
        roles={**before.roles, "auditor": "Internal audit"},
        purposes=purposes,
        role_parents=(("auditor", "analyst"),),
    )

    diff = diff_documents(before, after)
    as_json = diff.to_json()

    assert as_json["roles"]["added"] == {"auditor": {"description": "Internal audit"}}
    assert as_json["purposes"]["changed"] == {
        "marketing": {"retention_days": {"before": 730, "after": 365}}
    }
    assert as_json["role_parents"]["added"] == [["auditor", "analyst"]]
    assert json.loads(json.dumps(as_json)) == as_json
    assert "~ purpose marketing.retention_days: 730 -> 365" in diff.lines()
    assert "+ role_parent [auditor, analyst]" in diff.lines()
