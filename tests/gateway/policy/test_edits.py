"""Edits of a policy document: replacing a rule keeps its place and refuses a missing
rule or a duplicate (the console's "edit this rule" is one version, one diff)."""

from __future__ import annotations

import pytest

from gateway.policy.edits import replace_rule, rule_id
from gateway.policy.errors import PolicyTargetExists, PolicyTargetNotFound
from policies.document import PolicyDocument, Rule, RuleEffect

MASK = Rule("marketing", "marketing", "contact.phone", "read:mask")
DENY = Rule("marketing", "marketing", "contact.phone", "*", RuleEffect.DENY)
EMAIL = Rule("marketing", "marketing", "contact.email", "read:mask")


def document(*rules: Rule) -> PolicyDocument:
    return PolicyDocument(purposes={}, roles={"marketing": ""}, rules=rules)


def test_given_rule_replaced_then_new_rule_in_its_place() -> None:
    edited = replace_rule(rule_id(MASK), DENY)(document(MASK, EMAIL))

    assert edited.rules == (DENY, EMAIL)


def test_given_unknown_rule_id_then_not_found() -> None:
    with pytest.raises(PolicyTargetNotFound):
        replace_rule("r_000000000000", DENY)(document(MASK))


def test_given_replacement_equal_to_another_rule_then_already_exists() -> None:
    with pytest.raises(PolicyTargetExists):
        replace_rule(rule_id(MASK), EMAIL)(document(MASK, EMAIL))


def test_given_replacement_equal_to_itself_then_document_unchanged() -> None:
    """The change service then refuses it as `no_change`."""
    assert replace_rule(rule_id(MASK), MASK)(document(MASK)).rules == (MASK,)
