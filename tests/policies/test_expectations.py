"""Expectation cases: parsing with lines, effects versus outcomes, and the shipped file."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.db.init_store import with_demo_principals
from masking import default_mask_for
from policies.catalog import default_catalog
from policies.document import default_policy_document
from policies.errors import PolicyFileError
from policies.expectations import CaseResult, parse_expectations, run_cases
from policies.explain import ConsentFacts
from policies.plan import PolicyEngine

SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "expectations.yaml"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def engine() -> PolicyEngine:
    return PolicyEngine(with_demo_principals(default_policy_document()), default_catalog(), 5)


def run(text: str, stored: dict[str, ConsentFacts] | None = None) -> list[CaseResult]:
    cases = parse_expectations(text, "cases.yaml", default_catalog())
    return run_cases(cases, engine(), now=NOW, stored=stored, default_mask=default_mask_for)


def test_given_the_shipped_expectations_then_the_default_policy_meets_every_one() -> None:
    results = run(SHIPPED.read_text(encoding="utf-8"))
    assert len(results) >= 15
    assert [r.case.name for r in results if not r.passed] == []
    principals = {r.case.principal for r in results}
    assert principals == set(with_demo_principals(default_policy_document()).principals)


def test_given_a_wrong_expectation_then_the_mismatch_names_field_values_and_rule() -> None:
    [result] = run(
        "- name: desk sees phones in clear\n"
        "  principal: support-desk\n"
        "  purpose: customer_service\n"
        "  expect: {phone: clear, email: masked}\n"
    )
    assert not result.passed
    [miss] = result.mismatches
    assert (miss.key, miss.expected, miss.got) == ("phone", "clear", "masked")
    rule = "[customer_service, customer_service, contact.*, read:mask, allow]"
    assert miss.detail == f"effect mask:mobile by rule {rule}"


def test_given_effect_words_then_they_are_checked_against_the_plan_not_consent() -> None:
    [result] = run(
        "- name: marketing without consent\n"
        "  principal: marketing-app\n"
        "  purpose: marketing\n"
        "  customer: {consents: []}\n"
        "  expect:\n"
        "    phone: mask\n"  # any operator
        "    email: mask:email\n"
        "    id_number: deny\n"
        "    name: withheld\n"  # any reason
        "    region: withheld:no_consent\n"
        "    record: withheld:no_consent\n"
    )
    assert result.passed, result.mismatches


def test_given_an_outcome_word_then_consent_decides_it() -> None:
    [result] = run(
        "- name: clear region needs marketing consent\n"
        "  principal: marketing-app\n"
        "  purpose: marketing\n"
        "  customer: {consents: []}\n"
        "  expect: {region: clear, record: served}\n"
    )
    got = {m.key: m.got for m in result.mismatches}
    assert got == {"region": "withheld:no_consent", "record": "withheld:no_consent"}
    assert "needs consent" in result.mismatches[0].detail


def test_given_purpose_the_principal_may_not_declare_then_everything_is_refused() -> None:
    [result] = run(
        "- name: desk tries marketing\n"
        "  principal: support-desk\n"
        "  purpose: marketing\n"
        "  expect: {record: served, phone: masked}\n"
    )
    assert {m.got for m in result.mismatches} == {"withheld:purpose_not_allowed"}


def test_given_roles_instead_of_a_principal_then_any_purpose_is_judged() -> None:
    [result] = run(
        "- name: the service role under marketing has no rule\n"
        "  roles: [customer_service]\n"
        "  purpose: marketing\n"
        "  expect: {phone: deny, record: served}\n"
    )
    assert result.passed, result.mismatches


def test_given_names_the_policy_does_not_know_then_the_case_fails() -> None:
    results = run(
        "- name: ghost\n"
        "  principal: ghost-app\n"
        "  purpose: marketing\n"
        "  expect: {phone: deny}\n"
        "- name: no such purpose\n"
        "  roles: [marketing]\n"
        "  purpose: gossip\n"
        "  expect: {phone: deny}\n"
        "- name: no such customer\n"
        "  roles: [marketing]\n"
        "  purpose: marketing\n"
        "  customer: cus_00000000000000000000000000\n"
        "  expect: {phone: deny}\n"
    )
    assert [(m.key, m.got) for r in results for m in r.mismatches] == [
        ("principal", "not in the policy"),
        ("purpose", "not in the policy"),
        ("customer", "not in the store"),
    ]


def test_given_stored_customer_facts_then_they_decide() -> None:
    inline = ConsentFacts.inline(now=NOW, consents=["marketing"])
    events = tuple(replace(event, customer_id="cus_1") for event in inline.events)
    stored = {"cus_1": ConsentFacts("cus_1", events)}
    [result] = run(
        "- name: stored\n"
        "  principal: marketing-app\n"
        "  purpose: marketing\n"
        "  customer: cus_1\n"
        "  expect: {record: served, phone: masked}\n",
        stored,
    )
    assert result.passed, result.mismatches


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "line 1: expected a non-empty list of cases"),
        (
            "- {principal: a, purpose: b, expect: {phone: deny}}",
            "line 1: case 1: `name` is required",
        ),
        (
            "- name: x\n  principal: a\n  roles: [b]\n  purpose: p\n  expect: {phone: deny}",
            "line 1: case 'x': name either a `principal` or its `roles`",
        ),
        (
            "- name: ok\n  roles: [a]\n  purpose: p\n  expect: {phone: deny}\n"
            "- name: y\n  roles: [a]\n  purpose: p\n  expect: {customers.fax: deny}",
            "line 5: case 'y': expect: 'customers.fax' is no field of the catalog",
        ),
        (
            "- name: z\n  roles: [a]\n  purpose: p\n  customer: {consent: [p]}\n  expect: {a.b: x}",
            "line 1: case 'z': customer: unknown keys consent",
        ),
        (
            "- name: s\n  roles: [a]\n  purpose: p\n  customer: {separate: [x]}\n"
            "  expect: {phone: deny}",
            "case 's': customer: separate consent scopes must be among",
        ),
        (
            "- name: d\n  roles: [a]\n  purpose: p\n  expect: {phone: deny}\n"
            "- name: d\n  roles: [a]\n  purpose: p\n  expect: {phone: deny}",
            "line 5: case 'd': named twice (first on line 1)",
        ),
        ("- name: [\n", "line 2: not valid YAML"),
    ],
)
def test_given_an_unusable_case_then_the_error_names_line_and_case(text: str, message: str) -> None:
    with pytest.raises(PolicyFileError) as raised:
        parse_expectations(text, "cases.yaml", default_catalog())
    assert str(raised.value).startswith("cases.yaml line "), raised.value
    assert message in str(raised.value)
