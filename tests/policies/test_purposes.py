"""Purposes as data: validation with line numbers, scope patterns, defaults, round trip."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies import purposes as purposes_module
from policies.catalog import default_catalog
from policies.errors import PolicyFileError
from policies.purposes import (
    DEFAULT_RETENTION_DAYS,
    LegalBasis,
    Purpose,
    load_purposes_file,
    parse_purposes,
    parse_purposes_text,
)

SHIPPED = Path(purposes_module.__file__).with_name("purposes.yaml")

VALID = """\
purposes:
  support:
    name_zh: 客服
    name_en: Support
    legal_basis: contract
    categories: [identity.*, contact.phone, record.*]
    retention_days: 1095
  sharing:
    name_zh: 合作伙伴
    name_en: Partner sharing
    legal_basis: consent
    categories:
      - identity.customer_id
      - contact.email
    third_party: true
    cross_border: true
    marketing: true
    automated_decision: true
    retention_days: 30
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "purposes.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def purpose(**fields: Any) -> Purpose:
    base: dict[str, Any] = {
        "id": "support",
        "name_zh": "客服",
        "name_en": "Support",
        "legal_basis": LegalBasis.CONTRACT,
    }
    return Purpose(**{**base, **fields})


# --- loading a valid file ---------------------------------------------------------------


def test_given_valid_file_then_every_field_is_loaded(tmp_path: Path) -> None:
    loaded = load_purposes_file(write(tmp_path, VALID))

    assert list(loaded) == ["support", "sharing"]
    assert loaded["support"] == purpose(
        categories=frozenset({"identity.*", "contact.phone", "record.*"}), retention_days=1095
    )
    sharing = loaded["sharing"]
    assert sharing.legal_basis is LegalBasis.CONSENT
    assert sharing.categories == {"identity.customer_id", "contact.email"}
    assert (sharing.third_party, sharing.public_disclosure, sharing.cross_border) == (
        True,
        False,
        True,
    )
    assert sharing.marketing
    assert sharing.automated_decision
    assert sharing.retention_days == 30


def test_given_consent_basis_then_consent_and_separate_scopes_are_required(
    tmp_path: Path,
) -> None:
    loaded = load_purposes_file(write(tmp_path, VALID))

    assert loaded["sharing"].requires_consent
    assert loaded["sharing"].separate_scopes_required == {"third_party", "cross_border"}
    assert not loaded["support"].requires_consent
    assert loaded["support"].separate_scopes_required == frozenset()


@pytest.mark.parametrize("flag", ["third_party", "public_disclosure", "cross_border"])
def test_given_one_separate_scope_flag_then_only_that_scope_is_required(flag: str) -> None:
    assert purpose(**{flag: True}).separate_scopes_required == {flag}


@pytest.mark.parametrize("flag", ["marketing", "automated_decision"])
def test_given_marketing_or_automated_decision_then_no_separate_scope_is_required(
    flag: str,
) -> None:
    assert purpose(**{flag: True}).separate_scopes_required == frozenset()


# --- scope: allows_category -------------------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "category", "allowed"),
    [
        ({"*"}, "identity.national_id", True),
        ({"*"}, "free_text", True),
        ({"contact.*"}, "contact.phone", True),
        ({"contact.*"}, "contact.email", True),
        ({"contact.*"}, "contact", False),
        ({"contact.*"}, "contactless.phone", False),
        ({"contact.*"}, "identity.name", False),
        ({"contact.phone"}, "contact.phone", True),
        ({"contact.phone"}, "contact.email", False),
        ({"identity.customer_id", "record.*"}, "record.rating", True),
        ({"identity.customer_id", "record.*"}, "identity.customer_id", True),
        ({"identity.customer_id", "record.*"}, "identity.name", False),
        ({"free_text"}, "free_text", True),
        (set(), "identity.customer_id", False),
    ],
)
def test_given_category_patterns_then_allows_category_matches_names_and_prefixes(
    categories: set[str], category: str, allowed: bool
) -> None:
    assert purpose(categories=frozenset(categories)).allows_category(category) is allowed


# --- errors name the line -----------------------------------------------------------------

ERRORS = [
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            retention: 30
        """,
        4,
        "purposes.support.retention: unknown key",
        id="unknown-key",
    ),
    pytest.param(
        """\
        purposes:
          support:
            name_en: Support
            legal_basis: legitimate_interest
        """,
        4,
        "purposes.support.legal_basis: must be one of consent, contract",
        id="bad-legal-basis",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
          profiling:
            name_en: Profiling
        """,
        4,
        "purposes.profiling: legal_basis is required",
        id="missing-legal-basis",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: 3
        """,
        3,
        "purposes.support.legal_basis: must be one of",
        id="legal-basis-not-a-string",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            name_zh: ""
        """,
        4,
        "purposes.support.name_zh: must be a non-empty string",
        id="empty-name",
    ),
    pytest.param(
        """\
        purposes:
          support:
            name_en: [Support]
            legal_basis: contract
        """,
        3,
        "purposes.support.name_en: must be a non-empty string",
        id="name-not-a-string",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            categories: contact.*
        """,
        4,
        "purposes.support.categories: expected a list",
        id="categories-not-a-list",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            categories:
              - contact.phone
              - 42
        """,
        6,
        "purposes.support.categories[1]: expected a category name or pattern, got int",
        id="category-not-a-string",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            categories:
              - contact*
        """,
        5,
        "purposes.support.categories[0]: 'contact*' is not a category name",
        id="category-bad-pattern",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            categories: [Contact.Phone]
        """,
        4,
        "purposes.support.categories[0]: 'Contact.Phone' is not a category name",
        id="category-upper-case",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            categories:
              - contact.phone
              - record.*
              - contact.phone
        """,
        7,
        "purposes.support.categories[2]: 'contact.phone' is listed twice",
        id="category-twice",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            categories: ["*", contact.phone]
        """,
        4,
        "purposes.support.categories: '*' already allows every category",
        id="star-with-others",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: consent
            third_party: 1
        """,
        4,
        "purposes.support.third_party: must be true or false",
        id="flag-int",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: consent
            cross_border: "true"
        """,
        4,
        "purposes.support.cross_border: must be true or false",
        id="flag-string",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: consent
            automated_decision: sometimes
        """,
        4,
        "purposes.support.automated_decision: must be true or false",
        id="flag-word",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            retention_days: 0
        """,
        4,
        "purposes.support.retention_days: must be a positive number of days",
        id="retention-zero",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            retention_days: -30
        """,
        4,
        "purposes.support.retention_days: must be a positive number of days",
        id="retention-negative",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            retention_days: 3 years
        """,
        4,
        "purposes.support.retention_days: must be a positive number of days",
        id="retention-text",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            retention_days: 30.5
        """,
        4,
        "purposes.support.retention_days: must be a positive number of days",
        id="retention-float",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            retention_days: true
        """,
        4,
        "purposes.support.retention_days: must be a positive number of days",
        id="retention-bool",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
          Marketing:
            legal_basis: consent
        """,
        4,
        "purposes.Marketing: a purpose id is a lowercase letter",
        id="id-upper-case",
    ),
    pytest.param(
        """\
        purposes:
          x:
            legal_basis: contract
        """,
        2,
        "purposes.x: a purpose id is",
        id="id-too-short",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
          1st_party:
            legal_basis: contract
        """,
        4,
        "purposes.1st_party: a purpose id is",
        id="id-starts-with-digit",
    ),
    pytest.param(
        """\
        purposes:
          support: contract
        """,
        2,
        "purposes.support: expected a mapping",
        id="purpose-not-a-mapping",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
          support:
            legal_basis: consent
        """,
        4,
        "purposes.support: defined twice (first on line 2)",
        id="purpose-twice",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
            retention_days: 30
            legal_basis: consent
        """,
        5,
        "purposes.support.legal_basis: defined twice (first on line 3)",
        id="key-twice",
    ),
    pytest.param(
        """\
        # nothing declared yet
        purposes: {}
        """,
        2,
        "purposes: expected a non-empty mapping",
        id="no-purposes",
    ),
    pytest.param(
        """\
        purposes:
          - support
        """,
        1,
        "purposes: expected a non-empty mapping",
        id="purposes-a-list",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: contract
        roles: {}
        """,
        4,
        "unknown top-level key 'roles'",
        id="unknown-top-level-key",
    ),
    pytest.param(
        """\
        - support
        """,
        1,
        "expected a mapping with a 'purposes' key",
        id="file-not-a-mapping",
    ),
    pytest.param(
        """\
        purposes:
          support:
            legal_basis: [contract
        """,
        4,
        "not valid YAML",
        id="invalid-yaml",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), ERRORS)
def test_given_bad_file_then_it_is_refused_naming_the_line_and_reason(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(PolicyFileError) as refused:
        load_purposes_file(path)

    assert str(refused.value).startswith(f"{path} line {line}: ")
    assert message in str(refused.value)


def test_given_bad_purpose_without_source_text_then_error_names_the_field_without_a_line() -> None:
    with pytest.raises(PolicyFileError) as refused:
        parse_purposes({"support": {"legal_basis": "contract", "retention_days": 0}})

    assert str(refused.value).startswith("purposes.support.retention_days: must be a positive")


def test_given_purposes_inside_a_policy_file_then_errors_name_the_line_in_that_file() -> None:
    text = textwrap.dedent(
        """\
        roles:
          agent: {description: Desk agent}
        rules: []
        purposes:
          support:
            legal_basis: contract
            marketing: maybe
        """
    )
    raw = yaml.safe_load(text)

    with pytest.raises(PolicyFileError, match=re.escape("policy.yaml line 7: purposes.support.")):
        parse_purposes(raw["purposes"], source="policy.yaml", text=text)


def test_given_file_refused_then_no_field_value_but_the_bad_one_is_echoed(tmp_path: Path) -> None:
    """Errors name keys and lines; a valid file's other values stay out of the message."""
    path = write(tmp_path, VALID.replace("retention_days: 30\n", "retention_days: -1\n"))

    with pytest.raises(PolicyFileError) as refused:
        load_purposes_file(path)

    assert "line 19: purposes.sharing.retention_days" in str(refused.value)
    assert "Partner sharing" not in str(refused.value)


# --- defaults and round trip ------------------------------------------------------------


def test_given_old_style_purpose_then_new_fields_take_their_defaults() -> None:
    old = {"support": {"name_zh": "客服", "name_en": "Support", "legal_basis": "contract"}}

    loaded = parse_purposes(old)["support"]

    assert loaded == purpose()
    assert loaded.categories == {"*"}
    assert loaded.allows_category("identity.national_id")
    flags = (loaded.third_party, loaded.public_disclosure, loaded.cross_border)
    assert flags == (False, False, False)
    assert not loaded.marketing
    assert not loaded.automated_decision
    assert loaded.retention_days == DEFAULT_RETENTION_DAYS == 1095


def test_given_purpose_then_to_document_writes_every_field() -> None:
    doc = purpose(categories=frozenset({"record.*", "contact.phone"}), cross_border=True)

    assert doc.to_document() == {
        "name_zh": "客服",
        "name_en": "Support",
        "legal_basis": "contract",
        "categories": ["contact.phone", "record.*"],
        "third_party": False,
        "public_disclosure": False,
        "cross_border": True,
        "marketing": False,
        "automated_decision": False,
        "retention_days": 1095,
    }


def test_given_purposes_then_to_document_and_parse_round_trip_exactly(tmp_path: Path) -> None:
    loaded = load_purposes_file(write(tmp_path, VALID))

    stored = json.loads(json.dumps({pid: p.to_document() for pid, p in loaded.items()}))

    assert parse_purposes(stored) == loaded


def test_given_old_style_purpose_then_round_trip_keeps_the_defaults() -> None:
    first = parse_purposes({"support": {"legal_basis": "contract"}})

    again = parse_purposes({pid: p.to_document() for pid, p in first.items()})

    assert again == first
    assert again["support"].categories == {"*"}


# --- the shipped purposes.yaml ------------------------------------------------------------


def test_given_shipped_purposes_then_they_load_with_the_separate_consent_purposes() -> None:
    shipped = load_purposes_file(SHIPPED)

    assert {
        "customer_service",
        "marketing",
        "analytics",
        "compliance_audit",
        "erasure",
        "policy_admin",
        "partner_sharing",
        "cross_border_support",
        "public_testimonial",
    } <= shipped.keys()
    assert shipped["partner_sharing"].separate_scopes_required == {"third_party"}
    assert shipped["cross_border_support"].separate_scopes_required == {"cross_border"}
    assert shipped["public_testimonial"].separate_scopes_required == {"public_disclosure"}
    assert shipped["marketing"].marketing
    assert shipped["customer_service"].legal_basis is LegalBasis.CONTRACT


def test_given_shipped_purposes_then_every_category_they_name_exists_in_the_catalog() -> None:
    known = default_catalog().categories

    for purpose_ in load_purposes_file(SHIPPED).values():
        for category in purpose_.categories:
            if category.endswith(".*"):
                assert any(name.startswith(category[:-1]) for name in known), category
            else:
                assert category in known, (purpose_.id, category)


def test_given_shipped_purposes_then_scopes_follow_minimization() -> None:
    shipped = load_purposes_file(SHIPPED)
    catalog = default_catalog()
    personal = {name for name, spec in catalog.categories.items() if spec.personal}

    assert not shipped["marketing"].allows_category("identity.national_id")
    assert not shipped["marketing"].allows_category("financial.account")
    analytics = {c for c in catalog.categories if shipped["analytics"].allows_category(c)}
    # Birth dates come through masked to the year only (default policy).
    assert analytics & personal == {"identity.customer_id", "demographic.birth_date"}
    for pid in ("compliance_audit", "erasure", "policy_admin"):
        allowed = {c for c in catalog.categories if shipped[pid].allows_category(c)}
        assert allowed == {"identity.customer_id"}, pid


def test_given_shipped_purposes_then_text_and_plain_parsing_agree() -> None:
    text = SHIPPED.read_text(encoding="utf-8")

    assert parse_purposes_text(text) == parse_purposes(yaml.safe_load(text)["purposes"])
