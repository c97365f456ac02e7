"""Every operator on odd strings: never raises, never shows more than the plain case."""

import hashlib
import hmac

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


def stars(count: int) -> str:
    return "*" * count


# Per operator, the exact output for each of ODD_VALUES (same order). Values that fit no
# format are hidden whole, one star per code point (a combining accent counts as one);
# free-form masks (email, address, dates, redact) show a fixed "****" so the length of
# an odd value is not shown either; only the empty string stays empty.
_ID_MASK = ["", "*", "**", "*", "*", "***", "**", "*", "***"]
_FIXED = ["", *[stars(4)] * 15]
EXPECTED: dict[str, list[str]] = {
    "partial": [
        *_ID_MASK,
        stars(996) + "9999",
        stars(496) + "张张张张",
        "***",
        "*市区县旗",  # keep_last=4 and min_masked=1: the generic mask's own defaults
        "***",
        "****",  # 4 characters: keeping 4 would hide none, so all are hidden
        "***ga Ⅻ",
    ],
    "mobile": [
        *_ID_MASK,
        "999" + stars(993) + "9999",
        stars(500),
        "***",
        "*****",
        "***",
        "****",
        stars(7),
    ],
    "resident_id": [*_ID_MASK, stars(1000), stars(500), "***", "*****", "***", "****", stars(7)],
    "bank_card": [
        *_ID_MASK,
        "999999" + stars(990) + "9999",
        stars(500),
        "***",
        "*****",
        "***",
        "****",
        stars(7),
    ],
    "person_name": [
        "",
        "",  # blank names are blank
        "",
        "*",
        "*",
        "😀**",
        "e*",
        "*",
        "-**",
        "9" + stars(999),
        "张" + stars(499),
        "a**",
        "省****",
        "+**",
        "1***",
        "Ω**** Ⅻ",  # two words: the last one is read as the family name and kept
    ],
    "email": [*_FIXED[:11], "***@b", *_FIXED[12:]],
    "address": _FIXED,
    "date_year": [*_FIXED[:14], "1990", _FIXED[15]],
    "redact": [stars(4)] * len(ODD_VALUES),
}


def pseudonym(value: str) -> str:
    """The documented construction, computed here: psn_ + HMAC-SHA256(key, purpose 0x00
    value)[:16], text as UTF-8 with lone surrogates passed through."""
    message = b"test\x00" + value.encode("utf-8", "surrogatepass")
    return "psn_" + hmac.new(bytes(32), message, hashlib.sha256).hexdigest()[:16]


def expected_output(operator: str, value: str) -> str:
    if operator == "pseudonym":
        return pseudonym(value)
    return EXPECTED[operator][ODD_VALUES.index(value)]


def test_every_operator_has_an_expected_output_for_every_odd_value() -> None:
    assert {cls.name for cls in BUILTIN_OPERATORS} == {*EXPECTED, "pseudonym"}
    assert all(len(outputs) == len(ODD_VALUES) for outputs in EXPECTED.values())


@pytest.mark.parametrize("bound", bound_masks(), ids=lambda bound: bound.operator_name)
@pytest.mark.parametrize("value", ODD_VALUES)
def test_given_odd_string_then_operator_returns_its_exact_mask(
    bound: BoundMask, value: str
) -> None:
    assert bound(value) == expected_output(bound.operator_name, value)


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
