"""Every operator on odd strings: never raises, never shows more than the plain case."""

import pytest

from masking import BUILTIN_OPERATORS, BoundMask, default_registry
from masking.operators import PseudonymConfig

ODD_VALUES = [
    "",
    " ",
    "\t\n",
    "\x00",
    "\ud800",
    "😀😀😀",
    "e\u0301",
    "@",
    "-" * 3,
    "9" * 1000,
    "张" * 500,
    "a@b",
    "省市区县旗",
    "+86",
    "1990",
    "Ωmega Ⅻ",
]


def bound_masks() -> list[BoundMask]:
    masks = []
    for cls in BUILTIN_OPERATORS:
        params: dict[str, object] = {}
        if cls.config_model is PseudonymConfig:
            params = {"key": bytes(32), "purpose": "test"}
        masks.append(default_registry().bind(cls.name, **params))
    return masks


@pytest.mark.parametrize("bound", bound_masks(), ids=lambda bound: bound.operator_name)
@pytest.mark.parametrize("value", ODD_VALUES)
def test_given_odd_string_then_operator_returns_a_string(bound: BoundMask, value: str) -> None:
    assert isinstance(bound(value), str)


@pytest.mark.parametrize(
    "name", ["partial", "mobile", "resident_id", "bank_card", "person_name", "email", "date_year"]
)
@pytest.mark.parametrize("value", ["", "a"])
def test_given_empty_or_one_character_then_nothing_is_shown(name: str, value: str) -> None:
    masked = default_registry().bind(name)(value)
    assert value == "" or value not in masked


@pytest.mark.parametrize("name", ["mobile", "resident_id", "bank_card"])
def test_given_non_digit_text_then_id_masks_show_none_of_it(name: str) -> None:
    assert set(default_registry().bind(name)("abc-def-ghi-jkl-mno")) == {"*"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("mobile", "13812345678"),
        ("resident_id", "11010519491231002X"),
        ("bank_card", "6225880137065676"),
        ("person_name", "张三丰"),
        ("email", "zhang.wei@example.com"),
        ("address", "北京市朝阳区建国路88号"),
        ("date_year", "1990-05-17"),
        ("redact", "anything"),
    ],
)
def test_given_design_example_then_the_value_never_appears_in_the_output(
    name: str, value: str
) -> None:
    assert value not in default_registry().bind(name)(value)
