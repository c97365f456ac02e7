"""Redact: the value is replaced whole."""

from masking import default_registry


def test_given_any_value_then_the_fixed_replacement_is_returned() -> None:
    redact = default_registry().bind("redact")
    assert redact("anything at all") == "****"
    assert redact("") == "****"


def test_given_replacement_then_it_is_used() -> None:
    assert default_registry().bind("redact", replacement="[REDACTED]")("x") == "[REDACTED]"
