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
