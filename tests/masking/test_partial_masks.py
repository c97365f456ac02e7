"""Partial masks: generic partial, mobile, resident ID and bank card."""

import pytest

from masking import default_registry


def mask(name: str, value: str, **config: object) -> str:
    return default_registry().bind(name, **config)(value)


def test_given_mobile_then_first_3_and_last_4_are_kept() -> None:
    assert mask("mobile", "13812345678") == "138****5678"


@pytest.mark.parametrize(
    "value",
    ["+86 138 1234 5678", "+8613812345678", "0086 13812345678", "86 13812345678", "138-1234-5678"],
)
def test_given_mobile_with_prefix_or_separators_then_national_digits_are_masked(
    value: str,
) -> None:
    assert mask("mobile", value) == "138****5678"


@pytest.mark.parametrize("value", ["12345678", "1381234567", "138 1234"])
def test_given_mobile_with_under_4_digits_to_hide_then_all_is_masked(value: str) -> None:
    masked = mask("mobile", value)
    assert set(masked) == {"*"}


@pytest.mark.parametrize("value", ["call me maybe", "138１２３４５６７８", "138-1234-567x"])
def test_given_mobile_that_is_not_digits_then_every_character_is_masked(value: str) -> None:
    assert mask("mobile", value) == "*" * len(value)


def test_given_resident_id_from_brief_then_first_3_and_last_4_are_kept() -> None:
    assert mask("resident_id", "11010519491231002X") == "110***********002X"


def test_given_resident_id_from_design_then_output_matches_design_example() -> None:
    assert mask("resident_id", "11010519900307457X") == "110***********457X"


def test_given_resident_id_with_lowercase_x_and_spaces_then_it_is_normalized() -> None:
    assert mask("resident_id", "110105 19491231 002x") == "110***********002X"


def test_given_15_digit_resident_id_then_first_3_and_last_4_are_kept() -> None:
    assert mask("resident_id", "110105491231002") == "110********1002"


@pytest.mark.parametrize("value", ["1101051949", "not an id number!", "11010519491231002Y"])
def test_given_value_not_shaped_like_resident_id_then_all_is_masked(value: str) -> None:
    assert mask("resident_id", value) == "*" * len(value)


def test_given_bank_card_then_first_6_and_last_4_are_kept() -> None:
    assert mask("bank_card", "6225880137065676") == "622588******5676"


@pytest.mark.parametrize("value", ["6225 8801 3706 5676", "6225-8801-3706-5676"])
def test_given_bank_card_with_separators_then_they_are_stripped(value: str) -> None:
    assert mask("bank_card", value) == "622588******5676"


def test_given_19_digit_bank_card_then_9_digits_are_hidden() -> None:
    assert mask("bank_card", "6217000010012345678") == "621700*********5678"


def test_given_short_bank_card_then_all_is_masked() -> None:
    assert mask("bank_card", "622588015676") == "************"


def test_given_partial_defaults_then_last_4_are_kept() -> None:
    assert mask("partial", "abcdefgh") == "****efgh"


def test_given_partial_config_then_keep_first_keep_last_and_mask_char_apply() -> None:
    assert mask("partial", "abcdefgh", keep_first=2, keep_last=1, mask_char="#") == "ab#####h"


@pytest.mark.parametrize("value", ["", "a", "abcd", "abcde"])
def test_given_value_not_longer_than_kept_parts_then_all_is_masked(value: str) -> None:
    assert mask("partial", value, keep_first=1, keep_last=4) == "*" * len(value)


def test_given_min_masked_then_values_hiding_fewer_are_masked_whole() -> None:
    assert mask("partial", "abcdefg", keep_first=2, keep_last=2, min_masked=4) == "*******"
    assert mask("partial", "abcdefgh", keep_first=2, keep_last=2, min_masked=4) == "ab****gh"


def test_given_keep_zero_on_both_ends_then_everything_is_masked() -> None:
    assert mask("partial", "secret", keep_first=0, keep_last=0) == "******"
