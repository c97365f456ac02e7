"""E-mail: first character of the local part, then *** and the domain."""

import pytest

from masking import default_registry


def mask(value: str, **config: object) -> str:
    return default_registry().bind("email", **config)(value)


def test_given_email_then_first_character_and_domain_are_kept() -> None:
    assert mask("zhang.wei@example.com") == "z***@example.com"


def test_given_one_character_local_part_then_it_is_masked_too() -> None:
    assert mask("z@example.com") == "***@example.com"


def test_given_surrounding_whitespace_then_it_is_ignored() -> None:
    assert mask("  zhang.wei@example.com ") == "z***@example.com"


def test_given_two_at_signs_then_it_is_redacted() -> None:
    assert mask("a@b@example.com") == "****"


@pytest.mark.parametrize(
    "value",
    ["zhang.wei", "@example.com", "zhang@", "my secret @ home", "a b@example.com"],
)
def test_given_value_that_is_not_an_address_then_it_is_redacted(value: str) -> None:
    assert mask(value) == "****"


def test_given_empty_value_then_result_is_empty() -> None:
    assert mask("") == ""


def test_given_config_then_keep_first_mask_and_redaction_apply() -> None:
    assert mask("zhang.wei@example.com", keep_first=2, mask="...") == "zh...@example.com"
    assert mask("nope", redaction="[hidden]") == "[hidden]"
