"""Blind indexes (keys/blind_index.py): keyed, per field, per suite, fixed width."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from keys import AES256GCM, SM4GCM, BlindIndexer, CipherSuite

SUITES = [pytest.param(AES256GCM, id="aes256gcm"), pytest.param(SM4GCM, id="sm4gcm")]
KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))


@pytest.fixture(params=SUITES)
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def indexer(suite: CipherSuite) -> BlindIndexer:
    return BlindIndexer(KEY, suite)


@pytest.mark.parametrize("value", ["alice@example.com", "", "张伟", "13800138000"])
def test_given_value_then_index_is_32_lowercase_hex_chars(
    indexer: BlindIndexer, value: str
) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", indexer.index("email", value))


def test_given_same_key_field_and_value_then_index_is_deterministic(
    indexer: BlindIndexer, suite: CipherSuite
) -> None:
    first = indexer.index("email", "alice@example.com")

    assert indexer.index("email", "alice@example.com") == first
    assert BlindIndexer(KEY, suite).index("email", "alice@example.com") == first


def test_given_same_value_in_different_fields_then_indexes_differ(indexer: BlindIndexer) -> None:
    value = "13800138000"

    indexes = {indexer.index(field, value) for field in ("phone", "mobile", "id_number", "")}

    assert len(indexes) == 4


def test_given_different_values_then_indexes_differ(indexer: BlindIndexer) -> None:
    values = ["alice@example.com", "Alice@example.com", "alice@example.co", "", "张伟", "张"]

    assert len({indexer.index("email", v) for v in values}) == len(values)


def test_given_different_keys_then_indexes_differ(suite: CipherSuite) -> None:
    assert BlindIndexer(KEY, suite).index("email", "alice@example.com") != BlindIndexer(
        OTHER_KEY, suite
    ).index("email", "alice@example.com")


def test_given_different_suites_then_indexes_differ() -> None:
    assert BlindIndexer(KEY, AES256GCM).index("email", "alice@example.com") != BlindIndexer(
        KEY, SM4GCM
    ).index("email", "alice@example.com")


def test_given_value_then_index_does_not_contain_the_value_or_the_key(
    indexer: BlindIndexer,
) -> None:
    index = indexer.index("email", "abcdef")

    assert "abcdef" not in index
    assert index not in KEY.hex()


@pytest.mark.parametrize("value", ["alice@example.com", "张伟"])
def test_given_aes_suite_then_index_is_truncated_hmac_sha256_of_field_nul_value(
    value: str,
) -> None:
    """Checked against the standard library, independently of the suite's own MAC."""
    expected = hmac.new(KEY, b"email\x00" + value.encode("utf-8"), hashlib.sha256).hexdigest()

    assert BlindIndexer(KEY, AES256GCM).index("email", value) == expected[:32]


def test_given_sm4_suite_then_index_is_the_suite_mac_of_field_nul_value() -> None:
    expected = SM4GCM.mac(KEY, "email\x00张伟".encode())

    assert BlindIndexer(KEY, SM4GCM).index("email", "张伟") == expected.hex()[:32]
