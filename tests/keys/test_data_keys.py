"""Data keys (keys/data_keys.py): wrapped under the KEK, bound to owner and version."""

from __future__ import annotations

import base64
import struct

import pytest

from keys import (
    AES256GCM,
    SM4GCM,
    CipherSuite,
    CiphertextIntegrityError,
    DataKey,
    Keyring,
    MasterKey,
    MasterKeyError,
)
from keys.data_keys import new_data_key, unwrap, wrap

SUITES = [pytest.param(AES256GCM, id="aes256gcm"), pytest.param(SM4GCM, id="sm4gcm")]
KEK_1 = MasterKey(bytes(range(32)), 1)
KEK_2 = MasterKey(bytes(range(100, 132)), 2)
RING = Keyring({1: KEK_1, 2: KEK_2}, 2)
OWNER = "cust-01J9Z3"
HEADER_BYTES = 5  # suite id, KEK version (4)
NONCE_BYTES = 12


@pytest.fixture(params=SUITES)
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def key(suite: CipherSuite) -> DataKey:
    return new_data_key(OWNER, 3, suite)


def test_given_new_data_key_then_it_has_the_suite_key_size_and_fresh_material(
    suite: CipherSuite,
) -> None:
    first = new_data_key(OWNER, 1, suite)
    second = new_data_key(OWNER, 1, suite)

    assert len(first.material) == suite.key_bytes
    assert first.material != second.material
    assert (first.owner_id, first.version, first.suite) == (OWNER, 1, suite)


@pytest.mark.parametrize("kek", [KEK_1, KEK_2], ids=["kek-1", "kek-2"])
def test_given_wrapped_key_then_unwrap_returns_the_same_key(key: DataKey, kek: MasterKey) -> None:
    wrapped = wrap(key, kek)

    assert unwrap(wrapped, OWNER, 3, RING) == key


def test_given_wrapped_key_then_it_does_not_contain_the_key_material(key: DataKey) -> None:
    wrapped = wrap(key, KEK_2)

    assert key.material not in base64.b64decode(wrapped)
    assert key.material.hex() not in wrapped


def test_given_same_key_wrapped_twice_then_wrappings_differ(key: DataKey) -> None:
    assert wrap(key, KEK_2) != wrap(key, KEK_2)


@pytest.mark.parametrize("kek", [KEK_1, KEK_2], ids=["kek-1", "kek-2"])
def test_given_wrapped_key_then_its_header_names_the_suite_and_the_kek(
    key: DataKey, kek: MasterKey
) -> None:
    """The header (suite id, KEK version) is what lets unwrap pick the master key."""
    header = struct.unpack_from(">BI", base64.b64decode(wrap(key, kek)))
    assert header == (key.suite.id, kek.version)


def test_given_wrapped_key_copied_to_another_owner_then_unwrap_raises_integrity_error(
    key: DataKey,
) -> None:
    wrapped = wrap(key, KEK_2)

    with pytest.raises(CiphertextIntegrityError):
        unwrap(wrapped, "cust-01J9Z4", 3, RING)


@pytest.mark.parametrize("version", [1, 2, 4])
def test_given_wrapped_key_copied_to_another_version_then_unwrap_raises_integrity_error(
    key: DataKey, version: int
) -> None:
    wrapped = wrap(key, KEK_2)

    with pytest.raises(CiphertextIntegrityError):
        unwrap(wrapped, OWNER, version, RING)


def test_given_kek_version_not_in_the_ring_then_unwrap_raises_master_key_error(
    key: DataKey,
) -> None:
    wrapped = wrap(key, MasterKey(bytes(range(50, 82)), 9))

    with pytest.raises(MasterKeyError, match="master key version 9") as caught:
        unwrap(wrapped, OWNER, 3, RING)

    assert bytes(range(50, 82)).hex() not in str(caught.value)


def test_given_ring_without_the_old_version_then_unwrap_raises_master_key_error(
    key: DataKey,
) -> None:
    wrapped = wrap(key, KEK_1)

    with pytest.raises(MasterKeyError, match="version 1"):
        unwrap(wrapped, OWNER, 3, RING.without_version(1))


def test_given_another_kek_under_the_same_version_then_unwrap_raises_integrity_error(
    key: DataKey,
) -> None:
    wrapped = wrap(key, KEK_1)
    impostor = Keyring({1: MasterKey(bytes(range(150, 182)), 1)}, 1)

    with pytest.raises(CiphertextIntegrityError):
        unwrap(wrapped, OWNER, 3, impostor)


def test_given_any_flipped_byte_of_suite_nonce_or_body_then_unwrap_raises_integrity_error(
    key: DataKey,
) -> None:
    raw = base64.b64decode(wrap(key, KEK_2))
    # The KEK version bytes are left out: changing them names a version the ring lacks.
    positions = [0, *range(HEADER_BYTES, len(raw))]

    for position in positions:
        tampered = bytearray(raw)
        tampered[position] ^= 0x03
        with pytest.raises(CiphertextIntegrityError):
            unwrap(base64.b64encode(bytes(tampered)).decode(), OWNER, 3, RING)


@pytest.mark.parametrize("garbage", ["", "AAAA", "not base64!", "é" * 8, "%%%%"])
def test_given_garbage_then_unwrap_raises_integrity_error(suite: CipherSuite, garbage: str) -> None:
    with pytest.raises(CiphertextIntegrityError):
        unwrap(garbage, OWNER, 3, RING)


def test_given_wrapping_truncated_after_the_nonce_then_unwrap_raises_integrity_error(
    key: DataKey,
) -> None:
    raw = base64.b64decode(wrap(key, KEK_2))

    for keep in [*range(HEADER_BYTES), *range(HEADER_BYTES + NONCE_BYTES, len(raw))]:
        with pytest.raises(CiphertextIntegrityError):
            unwrap(base64.b64encode(raw[:keep]).decode(), OWNER, 3, RING)


@pytest.mark.parametrize(
    "suite",
    [
        pytest.param(AES256GCM, id="aes256gcm"),
        pytest.param(SM4GCM, id="sm4gcm"),
    ],
)
def test_given_wrapping_truncated_inside_the_nonce_then_unwrap_raises_integrity_error(
    suite: CipherSuite,
) -> None:
    raw = base64.b64decode(wrap(new_data_key(OWNER, 3, suite), KEK_2))

    for keep in range(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES):
        with pytest.raises(CiphertextIntegrityError):
            unwrap(base64.b64encode(raw[:keep]).decode(), OWNER, 3, RING)
