"""Default masks per data category (DESIGN.md "Masking defaults")."""

import pytest

from masking import DEFAULT_MASK_BY_CATEGORY, default_mask_for, default_registry


@pytest.mark.parametrize(
    ("category", "operator"),
    [
        ("contact.phone", "mobile"),
        ("identity.national_id", "resident_id"),
        ("financial.account", "bank_card"),
        ("identity.name", "person_name"),
        ("contact.email", "email"),
        ("contact.address", "address"),
        ("demographic.birth_date", "date_year"),
        ("identity.credit_code", "partial"),
        ("identity.travel_document", "partial"),
        ("identity.vehicle_plate", "redact"),
        ("network.ip_address", "redact"),
    ],
)
def test_given_category_then_its_default_operator_is_returned(category: str, operator: str) -> None:
    assert default_mask_for(category) == operator


def test_given_category_without_default_then_redact_is_returned() -> None:
    assert default_mask_for("commercial.segment") == "redact"
    assert default_mask_for("no.such.category") == "redact"


def test_given_default_operators_then_each_is_registered() -> None:
    for operator in [*DEFAULT_MASK_BY_CATEGORY.values(), default_mask_for("x")]:
        assert operator in default_registry()


def test_given_default_mapping_then_it_is_read_only() -> None:
    with pytest.raises(TypeError):
        DEFAULT_MASK_BY_CATEGORY["contact.phone"] = "redact"  # type: ignore[index]


def test_given_identifiers_found_in_text_then_only_their_last_four_are_shown() -> None:
    registry = default_registry()
    credit_code = registry.bind(default_mask_for("identity.credit_code"))
    passport = registry.bind(default_mask_for("identity.travel_document"))
    plate = registry.bind(default_mask_for("identity.vehicle_plate"))

    assert credit_code("91350211M000100Y43") == "*" * 14 + "0Y43"
    assert passport("E12345678") == "*****5678"
    assert plate("京AD12345") == "****"
