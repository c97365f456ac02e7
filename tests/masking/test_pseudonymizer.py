"""Pseudonyms: keyed HMAC-SHA256, stable per purpose, key never printed."""

import hashlib
import hmac

import pytest

from masking import InvalidOperatorConfigError, default_registry
from masking.operators import PseudonymConfig, Pseudonymizer

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def pseudonymize(
    value: str, *, key: bytes = KEY, purpose: str = "analytics", **extra: object
) -> str:
    return default_registry().bind("pseudonym", key=key, purpose=purpose, **extra)(value)


def test_given_value_then_output_is_prefix_and_truncated_hmac_of_purpose_nul_value() -> None:
    expected = hmac.new(KEY, b"analytics\x00" + b"13812345678", hashlib.sha256)
    assert pseudonymize("13812345678") == "psn_" + expected.hexdigest()[:16]


def test_given_same_value_purpose_and_key_then_pseudonym_is_stable() -> None:
    assert pseudonymize("张三") == pseudonymize("张三")
    assert pseudonymize("张三") == Pseudonymizer().mask(
        "张三", PseudonymConfig(key=KEY, purpose="analytics")
    )


def test_given_different_purpose_then_pseudonym_differs() -> None:
    assert pseudonymize("张三", purpose="analytics") != pseudonymize("张三", purpose="marketing")


def test_given_different_key_then_pseudonym_differs() -> None:
    assert pseudonymize("张三") != pseudonymize("张三", key=OTHER_KEY)


def test_given_different_values_then_pseudonyms_differ() -> None:
    assert pseudonymize("13812345678") != pseudonymize("13812345679")


def test_given_purpose_and_value_split_differently_then_pseudonyms_differ() -> None:
    """The NUL separator keeps ("ab", "c") apart from ("a", "bc")."""
    assert pseudonymize("c", purpose="ab") != pseudonymize("bc", purpose="a")


def test_given_prefix_and_length_then_they_shape_the_output() -> None:
    result = pseudonymize("x", prefix="cus_", length=32)
    assert result.startswith("cus_")
    assert len(result) == 4 + 32
    int(result[4:], 16)


def test_given_config_then_repr_does_not_show_the_key() -> None:
    config = PseudonymConfig(key=KEY, purpose="analytics")
    bound = default_registry().bind("pseudonym", key=KEY, purpose="analytics")
    for text in (repr(config), str(config), repr(bound)):
        assert "key" not in text
        assert repr(KEY) not in text
        assert KEY.hex() not in text


@pytest.mark.parametrize("key", [b"", b"short", bytes(15)])
def test_given_key_shorter_than_16_bytes_then_config_is_rejected(key: bytes) -> None:
    with pytest.raises(InvalidOperatorConfigError, match="at least 16 bytes"):
        default_registry().config_for("pseudonym", key=key, purpose="analytics")


def test_given_key_as_text_then_config_is_rejected() -> None:
    with pytest.raises(InvalidOperatorConfigError, match="key must be bytes"):
        default_registry().config_for("pseudonym", key="a" * 32, purpose="analytics")


def test_given_key_error_then_message_does_not_show_the_key() -> None:
    with pytest.raises(InvalidOperatorConfigError) as caught:
        default_registry().config_for("pseudonym", key="secret-key-text", purpose="p")
    assert "secret-key-text" not in str(caught.value)


@pytest.mark.parametrize("length", [0, 7, 65])
def test_given_length_out_of_range_then_config_is_rejected(length: int) -> None:
    with pytest.raises(InvalidOperatorConfigError, match="length"):
        default_registry().config_for("pseudonym", key=KEY, purpose="p", length=length)


def test_given_no_key_or_purpose_then_config_is_rejected() -> None:
    with pytest.raises(InvalidOperatorConfigError, match="missing parameter"):
        default_registry().config_for("pseudonym")


def test_given_empty_purpose_then_config_is_rejected() -> None:
    with pytest.raises(InvalidOperatorConfigError, match="purpose"):
        default_registry().config_for("pseudonym", key=KEY, purpose="")


def test_given_lone_surrogate_then_a_pseudonym_is_still_returned() -> None:
    assert pseudonymize("\ud800").startswith("psn_")
