"""Parsing and validating policy documents, purposes and the data catalog."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from masking.registry import default_registry
from policies.catalog import Sensitivity, default_catalog, load_catalog, parse_catalog
from policies.document import (
    PolicyDocument,
    Rule,
    RuleEffect,
    default_policy_document,
    parse_policy_document,
    validate_policy,
)
from policies.errors import PolicyFileError
from policies.purposes import LegalBasis, parse_purposes

PURPOSES = {"support": {"name_zh": "客服", "name_en": "Support", "legal_basis": "contract"}}
OPERATORS = default_registry().names()


def raw_policy(*rules: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "purposes": copy.deepcopy(PURPOSES),
        "roles": {"agent": {"description": "Desk agent"}, "lead": {}},
        "rules": list(rules),
        **extra,
    }


def problems_of(*rules: list[str], **extra: Any) -> list[str]:
    doc = parse_policy_document(raw_policy(*rules, **extra))
    return validate_policy(doc, default_catalog(), OPERATORS)


# --- validate_policy --------------------------------------------------------------------


def test_given_default_policy_then_it_validates_clean_against_the_registry() -> None:
    assert validate_policy(default_policy_document(), default_catalog(), OPERATORS) == []


def test_given_well_formed_rules_of_every_kind_then_no_problem_is_reported() -> None:
    problems = problems_of(
        ["agent", "support", "contact.phone", "read:clear"],
        ["agent", "*", "contact.*", "read:mask"],
        ["agent", "support", "customers.notes", "read:mask:redact"],
        ["agent", "support", "identity.customer_id", "read:pseudonymize"],
        ["agent", "support", "*", "read:*"],
        ["agent", "support", "contact.email", "lookup"],
        ["agent", "support", "orders.amount", "write"],
        ["agent", "support", "free_text", "*", "deny"],
        ["lead", "support", "api:audit", "audit:read"],
        ["lead", "support", "api:*", "erase"],
        role_parents=[["lead", "agent"]],
    )

    assert problems == []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (["ghost", "support", "contact.phone", "read:clear"], "unknown role 'ghost'"),
        (["agent", "research", "contact.phone", "read:clear"], "unknown purpose 'research'"),
        (["agent", "support", "contact.fax", "read:clear"], "unknown category or field"),
        (["agent", "support", "customers.shoe_size", "read:clear"], "unknown category or field"),
        (["agent", "support", "shoes.id", "read:clear"], "unknown category or field"),
        (["agent", "support", "medical.*", "read:clear"], "pattern matches no category"),
        (["agent", "support", "contact.phone", "read:sometimes"], "unknown action"),
        (["agent", "support", "contact.phone", "delete"], "unknown action"),
        (
            ["agent", "support", "contact.phone", "read:mask:scramble"],
            "unknown masking operator 'scramble'",
        ),
    ],
)
def test_given_one_bad_rule_then_its_problem_is_reported_naming_the_rule(
    rule: list[str], expected: str
) -> None:
    good = ["agent", "support", "contact.email", "read:mask"]

    problems = problems_of(good, rule)

    assert len(problems) == 1
    assert problems[0].startswith("rules[1]: ")
    assert expected in problems[0]


def test_given_several_bad_rules_then_every_problem_is_reported() -> None:
    problems = problems_of(
        ["ghost", "support", "contact.phone", "read:clear"],
        ["agent", "support", "contact.phone", "read:clear"],
        ["agent", "research", "contact.fax", "read:mask:scramble"],
        ["phantom", "nowhere", "medical.*", "fly"],
        role_parents=[["agent", "boss"]],
    )

    by_rule: dict[str, list[str]] = {}
    for problem in problems:
        where, _, what = problem.partition(": ")
        by_rule.setdefault(where, []).append(what)
    assert sorted(by_rule) == ["role_parents", "rules[0]", "rules[2]", "rules[3]"]
    assert by_rule["rules[0]"] == ["unknown role 'ghost'"]
    assert len(by_rule["rules[2]"]) == 3
    assert "unknown purpose 'research'" in by_rule["rules[2]"]
    assert any("'contact.fax'" in p for p in by_rule["rules[2]"])
    assert any("'scramble'" in p for p in by_rule["rules[2]"])
    assert len(by_rule["rules[3]"]) == 4
    assert by_rule["role_parents"] == ["unknown role 'boss'"]


def test_given_operator_registry_without_an_operator_then_rules_using_it_are_reported() -> None:
    doc = parse_policy_document(
        raw_policy(["agent", "support", "contact.phone", "read:mask:mobile"])
    )

    assert validate_policy(doc, default_catalog(), OPERATORS) == []
    problems = validate_policy(doc, default_catalog(), ["redact"])
    assert problems == ["rules[0]: action 'read:mask:mobile': unknown masking operator 'mobile'"]


# --- parse errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("agent support contact.phone read:clear", r"rules\[1\]: expected \[role"),
        (["agent", "support", "contact.phone"], r"rules\[1\]: expected \[role"),
        (
            ["agent", "support", "contact.phone", "read:clear", "deny", "now"],
            r"rules\[1\]: expected \[role",
        ),
        ({"role": "agent"}, r"rules\[1\]: expected \[role"),
        (["agent", "support", "", "read:clear"], r"rules\[1\]: every part must be"),
        (["agent", "support", 7, "read:clear"], r"rules\[1\]: every part must be"),
        (["agent", None, "contact.phone", "read:clear"], r"rules\[1\]: every part must be"),
        (
            ["agent", "support", "contact.phone", "read:clear", "maybe"],
            r"rules\[1\]: effect must be 'allow' or 'deny'",
        ),
        (
            ["agent", "support", "contact.phone", "read:clear", "DENY"],
            r"rules\[1\]: effect must be 'allow' or 'deny'",
        ),
    ],
)
def test_given_malformed_rule_then_parse_refuses_naming_the_rule(rule: Any, message: str) -> None:
    raw = raw_policy(["agent", "support", "contact.email", "read:mask"], rule)

    with pytest.raises(PolicyFileError, match=message):
        parse_policy_document(raw)


def test_given_explicit_effects_then_they_are_parsed() -> None:
    doc = parse_policy_document(
        raw_policy(
            ["agent", "support", "contact.phone", "read:clear"],
            ["agent", "support", "contact.phone", "read:clear", "allow"],
            ["agent", "support", "contact.phone", "read:clear", "deny"],
        )
    )

    assert [rule.effect for rule in doc.rules] == [
        RuleEffect.ALLOW,
        RuleEffect.ALLOW,
        RuleEffect.DENY,
    ]
    assert doc.rules[2].as_casbin() == ["agent", "support", "contact.phone", "read:clear", "deny"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["not", "a", "mapping"], "policy: expected a mapping"),
        ("rules: []", "policy: expected a mapping"),
        ({"purposes": PURPOSES, "roles": ["agent"], "rules": []}, "roles: expected a mapping"),
        ({"roles": {"agent": {}}, "rules": []}, "purposes: expected a non-empty mapping"),
        ({"purposes": {}, "roles": {}, "rules": []}, "purposes: expected a non-empty mapping"),
    ],
)
def test_given_malformed_document_then_parse_refuses_naming_the_part(
    raw: Any, message: str
) -> None:
    with pytest.raises(PolicyFileError, match=message):
        parse_policy_document(raw)


def test_given_role_spec_that_is_not_a_mapping_then_parse_refuses_naming_the_role() -> None:
    raw = raw_policy()
    raw["roles"] = {"agent": "Desk agent"}

    with pytest.raises(PolicyFileError, match="agent"):
        parse_policy_document(raw)


def test_given_role_without_spec_then_its_description_is_empty() -> None:
    raw = raw_policy()
    raw["roles"] = {"agent": None, "lead": {"description": "Team lead"}}

    assert parse_policy_document(raw).roles == {"agent": "", "lead": "Team lead"}


# --- round trip -------------------------------------------------------------------------


def test_given_default_policy_then_to_document_round_trips_through_json() -> None:
    doc = default_policy_document()

    stored = json.loads(json.dumps(doc.to_document(), ensure_ascii=False))

    assert parse_policy_document(stored) == doc


def test_given_hand_written_document_then_round_trip_keeps_effects_parents_and_purposes() -> None:
    doc = parse_policy_document(
        raw_policy(
            ["agent", "support", "contact.*", "read:mask:mobile", "allow"],
            ["agent", "support", "contact.phone", "*", "deny"],
            ["lead", "*", "api:audit", "audit:read"],
            role_parents=[["lead", "agent"]],
        )
    )

    again = parse_policy_document(json.loads(json.dumps(doc.to_document())))

    assert again == doc
    assert again.rules[1] == Rule("agent", "support", "contact.phone", "*", RuleEffect.DENY)
    assert again.role_parents == (("lead", "agent"),)
    assert again.roles == {"agent": "Desk agent", "lead": ""}
    assert again.purposes["support"].legal_basis is LegalBasis.CONTRACT
    assert again.purposes["support"].name_zh == "客服"


def test_given_allow_rule_then_document_form_omits_the_default_effect() -> None:
    allow = Rule("agent", "support", "contact.phone", "read:clear")
    deny = Rule("agent", "support", "contact.phone", "read:clear", RuleEffect.DENY)

    assert allow.to_document() == ["agent", "support", "contact.phone", "read:clear"]
    assert deny.to_document() == ["agent", "support", "contact.phone", "read:clear", "deny"]


def test_given_empty_document_parts_then_they_parse_to_empty_defaults() -> None:
    doc = parse_policy_document({"purposes": PURPOSES})

    assert doc == PolicyDocument(purposes=doc.purposes, roles={}, rules=(), role_parents=())


# --- purposes ---------------------------------------------------------------------------


@pytest.mark.parametrize("basis", ["legitimate_interest", "CONSENT", "", None, 3])
def test_given_bad_legal_basis_then_purposes_are_refused_naming_the_purpose(basis: Any) -> None:
    raw = {
        "support": {"legal_basis": "contract"},
        "profiling": {"name_en": "Profiling", "legal_basis": basis},
    }

    with pytest.raises(PolicyFileError, match=r"purposes\.profiling\.legal_basis: must be one of"):
        parse_purposes(raw)


def test_given_missing_legal_basis_then_purpose_is_refused() -> None:
    with pytest.raises(PolicyFileError, match=r"purposes\.support: legal_basis"):
        parse_purposes({"support": {"name_en": "Support"}})


def test_given_purpose_that_is_not_a_mapping_then_it_is_refused() -> None:
    with pytest.raises(PolicyFileError, match=r"purposes\.support: expected a mapping"):
        parse_purposes({"support": "contract"})


def test_given_every_pipl_legal_basis_then_purposes_parse_and_names_default_to_id() -> None:
    raw = {basis.value: {"legal_basis": basis.value} for basis in LegalBasis}

    purposes = parse_purposes(raw)

    assert {p.legal_basis for p in purposes.values()} == set(LegalBasis)
    assert purposes["consent"].name_en == "consent"
    assert purposes["consent"].name_zh == "consent"
    document = purposes["consent"].to_document()
    assert {k: document[k] for k in ("name_zh", "name_en", "legal_basis")} == {
        "name_zh": "consent",
        "name_en": "consent",
        "legal_basis": "consent",
    }
    # Everything else takes the defaults of a purpose written before issue 5.
    assert document["categories"] == ["*"]
    assert document["retention_days"] == 1095


# --- catalog ----------------------------------------------------------------------------


def raw_catalog() -> dict[str, Any]:
    return {
        "categories": {
            "identity.customer_id": {"description": "Customer id"},
            "contact.phone": {"description": "Phone", "personal": True},
            "record.id": {"description": "Record id", "personal": False},
        },
        "entities": {
            "people": {
                "fields": {
                    "id": {"category": "identity.customer_id", "format": "id", "writable": False},
                    "phone": {
                        "category": "contact.phone",
                        "sensitivity": "general",
                        "format": "cn_mobile",
                        "encrypted": True,
                        "blind_index": True,
                    },
                }
            },
            "calls": {
                "parent": "people",
                "fields": {"id": {"category": "record.id", "format": "record_id"}},
            },
        },
    }


def test_given_well_formed_catalog_then_fields_carry_their_flags_and_defaults() -> None:
    catalog = parse_catalog(raw_catalog())

    phone = catalog.entity("people").field("phone")
    assert phone.qualified_name == "people.phone"
    assert (phone.encrypted, phone.blind_index, phone.scan_pii) == (True, True, False)
    assert (phone.writable, phone.required) == (True, False)
    assert phone.sensitivity is Sensitivity.GENERAL
    assert not catalog.entity("people").field("id").writable
    assert catalog.entity("calls").parent == "people"
    assert catalog.entity("people").field_names == ("id", "phone")
    assert catalog.categories["record.id"].personal is False
    assert catalog.categories["identity.customer_id"].personal is True


def test_given_catalog_file_then_load_catalog_parses_it(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw_catalog(), allow_unicode=True), encoding="utf-8")

    assert load_catalog(path) == parse_catalog(raw_catalog())
    assert load_catalog(None) is default_catalog()


_DELETE = object()


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("/")
    node = document
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "entities/people/fields/phone/category",
            "contact.fax",
            r"entities\.people\.fields\.phone: unknown category 'contact\.fax'",
        ),
        (
            "entities/people/fields/phone/category",
            _DELETE,
            r"entities\.people\.fields\.phone: unknown category None",
        ),
        (
            "entities/people/fields/id",
            _DELETE,
            r"entities\.people: every entity needs an 'id' field",
        ),
        (
            "entities/people/fields/phone/colour",
            "blue",
            r"entities\.people\.fields\.phone: unknown keys \['colour'\]",
        ),
        (
            "entities/people/fields/phone/sensitivity",
            "secret",
            r"entities\.people\.fields\.phone: sensitivity must be 'general' or 'sensitive'",
        ),
        (
            "entities/people/fields/phone/format",
            _DELETE,
            r"entities\.people\.fields\.phone: a format is required",
        ),
        (
            "entities/people/fields/phone",
            "contact.phone",
            r"entities\.people\.fields\.phone: expected a mapping",
        ),
        ("entities/calls/parent", "accounts", r"entities\.calls: unknown parent 'accounts'"),
    ],
)
def test_given_malformed_catalog_then_parse_refuses_naming_the_place(
    path: str, value: Any, message: str
) -> None:
    raw = raw_catalog()
    _set(raw, path, value)

    with pytest.raises(PolicyFileError, match=message):
        parse_catalog(raw)


def test_given_catalog_that_is_not_a_mapping_then_it_is_refused() -> None:
    with pytest.raises(PolicyFileError, match="catalog: expected a mapping"):
        parse_catalog(["categories", "entities"])


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("categories/contact.phone", "Phone"),
        ("entities/calls", ["id"]),
        ("categories", ["contact.phone"]),
    ],
)
def test_given_catalog_part_that_is_not_a_mapping_then_parse_refuses_it(
    path: str, value: Any
) -> None:
    raw = raw_catalog()
    _set(raw, path, value)

    with pytest.raises(PolicyFileError):
        parse_catalog(raw)


def test_given_default_catalog_then_every_id_field_is_read_only() -> None:
    catalog = default_catalog()

    for entity in catalog.entities.values():
        assert entity.field_names[0] == "id"
        assert entity.field("id").writable is False
    assert catalog.entity("customers").field("id_number").sensitivity is Sensitivity.SENSITIVE


def test_given_purpose_scope_naming_an_unknown_category_then_validation_names_it() -> None:
    """A purpose's data categories must exist in the catalog (minimization, Art. 6)."""
    document = default_policy_document().to_document()
    document["purposes"]["marketing"]["categories"] = ["contact.*", "contact.fax", "nosuch.*"]
    problems = validate_policy(parse_policy_document(document), default_catalog(), set())
    assert "purposes.marketing.categories: unknown category 'contact.fax'" in problems
    assert "purposes.marketing.categories: unknown category 'nosuch.*'" in problems
    assert not [p for p in problems if "contact.*" in p]
