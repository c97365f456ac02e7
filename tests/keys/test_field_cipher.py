"""Field encryption (keys/field_cipher.py), every test under both cipher suites."""

from __future__ import annotations

import base64
import os
import re
import struct

import pytest

from keys import (
    AES256GCM,
    SM4GCM,
    UNREADABLE,
    CipherSuite,
    CiphertextIntegrityError,
    DataKey,
    FieldCipher,
    FieldContext,
    aad_prefix,
    key_tag,
    sealed_fields,
    tag_version,
    token_key_version,
)
from keys.data_keys import new_data_key

SUITES = [pytest.param(AES256GCM, id="aes256gcm"), pytest.param(SM4GCM, id="sm4gcm")]
OWNER = "cust-01J9Z3"
CONTEXT = FieldContext("customers", "email", "rec-0001")
HEADER_BYTES = 6  # format, suite id, DEK version (4)
NONCE_BYTES = 12
TAG_BYTES = 16


@pytest.fixture(params=SUITES)
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def key(suite: CipherSuite) -> DataKey:
    return new_data_key(OWNER, 1, suite)


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher()


def _decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# --- round trip --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext",
    ["", "alice@example.com", "张伟，北京市朝阳区建国路 88 号", "🙂 é\u0301 \x00 end", "x" * 5000],
    ids=["empty", "ascii", "cjk", "mixed-unicode", "long"],
)
def test_given_encrypted_value_then_decrypt_returns_it(
    cipher: FieldCipher, key: DataKey, plaintext: str
) -> None:
    token = cipher.encrypt(key, CONTEXT, plaintext)

    assert cipher.decrypt(key, CONTEXT, token) == plaintext


def test_given_encrypted_value_then_a_new_cipher_with_an_equal_key_decrypts_it(
    cipher: FieldCipher, key: DataKey
) -> None:
    token = cipher.encrypt(key, CONTEXT, "alice@example.com")
    same_key = DataKey(OWNER, 1, key.suite, bytes(key.material))

    same_place = FieldContext("customers", "email", "rec-0001")

    assert FieldCipher().decrypt(same_key, same_place, token) == "alice@example.com"


def test_given_encrypted_value_then_token_is_url_safe_and_hides_the_plaintext(
    cipher: FieldCipher, key: DataKey
) -> None:
    plaintext = "alice.wonderland@example.com"

    token = cipher.encrypt(key, CONTEXT, plaintext)

    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert plaintext not in token
    assert plaintext.encode() not in _decode(token)
    assert key.material not in _decode(token)


def test_given_encrypted_value_then_token_has_the_documented_layout(
    cipher: FieldCipher, key: DataKey
) -> None:
    plaintext = "alice@example.com"

    raw = _decode(cipher.encrypt(key, CONTEXT, plaintext))

    assert struct.unpack(">BBI", raw[:HEADER_BYTES]) == (1, key.suite.id, 1)
    assert len(raw) == HEADER_BYTES + NONCE_BYTES + len(plaintext.encode()) + TAG_BYTES


def test_given_same_value_encrypted_twice_then_tokens_differ(
    cipher: FieldCipher, key: DataKey
) -> None:
    first = cipher.encrypt(key, CONTEXT, "alice@example.com")
    second = cipher.encrypt(key, CONTEXT, "alice@example.com")

    assert first != second
    assert (
        _decode(first)[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
        != (_decode(second)[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES])
    )
    assert cipher.decrypt(key, CONTEXT, first) == cipher.decrypt(key, CONTEXT, second)


# --- bound to its place ------------------------------------------------------------------


@pytest.mark.parametrize(
    "moved_to",
    [
        FieldContext("customers", "email", "rec-0002"),
        FieldContext("customers", "phone", "rec-0001"),
        FieldContext("employees", "email", "rec-0001"),
        FieldContext("customers.email", "", "rec-0001"),
        FieldContext("customers", "email|rec-0001", ""),
    ],
    ids=["other-record", "other-field", "other-entity", "shifted-dot", "shifted-bar"],
)
def test_given_ciphertext_moved_to_another_place_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey, moved_to: FieldContext
) -> None:
    token = cipher.encrypt(key, CONTEXT, "alice@example.com")

    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(key, moved_to, token)


def test_given_ciphertext_moved_to_another_owner_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey
) -> None:
    """Even with the same key bytes: the owner is bound into the associated data."""
    token = cipher.encrypt(key, CONTEXT, "alice@example.com")
    other_owner = DataKey("cust-01J9Z4", key.version, key.suite, key.material)

    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(other_owner, CONTEXT, token)


# --- one opaque failure ------------------------------------------------------------------


def test_given_key_of_another_version_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey
) -> None:
    token = cipher.encrypt(key, CONTEXT, "alice@example.com")
    version_2 = DataKey(OWNER, 2, key.suite, key.material)

    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(version_2, CONTEXT, token)


def test_given_another_key_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey, suite: CipherSuite
) -> None:
    token = cipher.encrypt(key, CONTEXT, "alice@example.com")

    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(new_data_key(OWNER, 1, suite), CONTEXT, token)


def test_given_key_of_the_other_suite_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey, suite: CipherSuite
) -> None:
    other_suite = SM4GCM if suite is AES256GCM else AES256GCM
    token = cipher.encrypt(key, CONTEXT, "alice@example.com")

    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(new_data_key(OWNER, 1, other_suite), CONTEXT, token)


def test_given_any_flipped_byte_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey
) -> None:
    raw = _decode(cipher.encrypt(key, CONTEXT, "alice@example.com"))

    for position in range(len(raw)):
        tampered = bytearray(raw)
        tampered[position] ^= 0x01
        with pytest.raises(CiphertextIntegrityError):
            cipher.decrypt(key, CONTEXT, _encode(bytes(tampered)))


def test_given_token_truncated_in_header_or_after_the_nonce_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey
) -> None:
    raw = _decode(cipher.encrypt(key, CONTEXT, "alice@example.com"))
    lengths = [*range(HEADER_BYTES), *range(HEADER_BYTES + NONCE_BYTES, len(raw))]

    for keep in lengths:
        with pytest.raises(CiphertextIntegrityError):
            cipher.decrypt(key, CONTEXT, _encode(raw[:keep]))


@pytest.mark.parametrize(
    "suite",
    [
        pytest.param(AES256GCM, id="aes256gcm"),
        pytest.param(SM4GCM, id="sm4gcm"),
    ],
)
def test_given_token_truncated_inside_the_nonce_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, suite: CipherSuite
) -> None:
    key = new_data_key(OWNER, 1, suite)
    raw = _decode(cipher.encrypt(key, CONTEXT, "alice@example.com"))

    for keep in range(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES):
        with pytest.raises(CiphertextIntegrityError):
            cipher.decrypt(key, CONTEXT, _encode(raw[:keep]))


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_given_token_text_cut_short_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey, cut: int
) -> None:
    token = cipher.encrypt(key, CONTEXT, "alice@example.com")

    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(key, CONTEXT, token[:-cut])


@pytest.mark.parametrize(
    "garbage",
    ["", "=", "A", "AAAA", "not a token!", "%%%%%%%%", "é" * 40, "客户" * 10, "\x00" * 30],
)
def test_given_garbage_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey, garbage: str
) -> None:
    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(key, CONTEXT, garbage)


def test_given_well_formed_header_with_random_body_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey
) -> None:
    forged = struct.pack(">BBI", 1, key.suite.id, 1) + os.urandom(NONCE_BYTES + 40)

    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(key, CONTEXT, _encode(forged))


@pytest.mark.parametrize("fmt", [0, 2, 255])
def test_given_unknown_format_byte_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey, fmt: int
) -> None:
    raw = bytearray(_decode(cipher.encrypt(key, CONTEXT, "alice@example.com")))
    raw[0] = fmt

    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(key, CONTEXT, _encode(bytes(raw)))


@pytest.mark.parametrize("junk", ["!", " ", "\n", "."])
def test_given_token_with_a_non_base64_character_inserted_then_decrypt_raises_integrity_error(
    cipher: FieldCipher, key: DataKey, junk: str
) -> None:
    token = cipher.encrypt(key, CONTEXT, "alice@example.com")

    with pytest.raises(CiphertextIntegrityError):
        cipher.decrypt(key, CONTEXT, token[:10] + junk * 4 + token[10:])


def test_given_integrity_error_then_its_message_carries_no_value_or_key(
    cipher: FieldCipher, key: DataKey
) -> None:
    token = cipher.encrypt(key, CONTEXT, "alice@example.com")

    with pytest.raises(CiphertextIntegrityError) as caught:
        cipher.decrypt(key, FieldContext("customers", "email", "rec-0002"), token)

    message = str(caught.value)
    assert message == "ciphertext failed its integrity check"
    assert caught.value.__cause__ is None


# --- token_key_version and counters -----------------------------------------------------


@pytest.mark.parametrize("version", [1, 2, 7, 2**32 - 1])
def test_given_token_then_token_key_version_reads_the_data_key_version(
    cipher: FieldCipher, suite: CipherSuite, version: int
) -> None:
    key = new_data_key(OWNER, version, suite)

    assert token_key_version(cipher.encrypt(key, CONTEXT, "alice@example.com")) == version


@pytest.mark.parametrize("garbage", ["", "AAAA", "not a token!", "é" * 10])
def test_given_garbage_then_token_key_version_raises_integrity_error(
    suite: CipherSuite, garbage: str
) -> None:
    with pytest.raises(CiphertextIntegrityError):
        token_key_version(garbage)


def test_given_unknown_format_then_token_key_version_raises_integrity_error(
    cipher: FieldCipher, key: DataKey
) -> None:
    raw = bytearray(_decode(cipher.encrypt(key, CONTEXT, "alice@example.com")))
    raw[0] = 2

    with pytest.raises(CiphertextIntegrityError):
        token_key_version(_encode(bytes(raw)))


def test_given_new_cipher_then_counters_start_at_zero_and_count_each_call(
    cipher: FieldCipher, key: DataKey
) -> None:
    assert (cipher.encryptions, cipher.decryptions) == (0, 0)

    tokens = [cipher.encrypt(key, CONTEXT, value) for value in ("a", "b", "c")]
    assert (cipher.encryptions, cipher.decryptions) == (3, 0)

    cipher.decrypt(key, CONTEXT, tokens[0])
    cipher.decrypt(key, CONTEXT, tokens[2])
    assert (cipher.encryptions, cipher.decryptions) == (3, 2)

    token_key_version(tokens[1])
    assert (cipher.encryptions, cipher.decryptions) == (3, 2)


def test_given_two_ciphers_then_each_counts_only_its_own_calls(
    cipher: FieldCipher, key: DataKey
) -> None:
    other = FieldCipher()

    token = cipher.encrypt(key, CONTEXT, "a")
    other.decrypt(key, CONTEXT, token)

    assert (cipher.encryptions, cipher.decryptions) == (1, 0)
    assert (other.encryptions, other.decryptions) == (0, 1)


# --- a record at a time: sealed_fields and open_record (a page's path) --------------------


def _record_fields(names: tuple[str, ...]) -> list[tuple[str, bytes]]:
    return [(name, aad_prefix("customers", name)) for name in names]


def test_given_record_under_two_key_versions_then_grouped_by_key_and_each_opens_under_its_own(
    cipher: FieldCipher, suite: CipherSuite
) -> None:
    # A data-key rotation caught midway: one field re-encrypted, the other not yet.
    old, new = new_data_key(OWNER, 1, suite), new_data_key(OWNER, 2, suite)
    row: dict[str, object] = {
        "email": cipher.encrypt(old, FieldContext("customers", "email", "rec-1"), "a@x.cn"),
        "phone": cipher.encrypt(new, FieldContext("customers", "phone", "rec-1"), "139"),
        "notes": None,
    }
    grouped = sealed_fields(row, _record_fields(("email", "phone", "notes")))

    assert sorted(tag_version(tag) for tag in grouped) == [1, 2]
    by_version = {tag_version(tag): fields for tag, fields in grouped.items()}
    assert cipher.open_record(old, "rec-1", by_version[1], row) == []
    assert cipher.open_record(new, "rec-1", by_version[2], row) == []
    assert row == {"email": "a@x.cn", "phone": "139", "notes": None}
    # Under the other version's key, a field fails and is removed from the record.
    stale = {"email": cipher.encrypt(old, FieldContext("customers", "email", "rec-1"), "b")}
    (fields,) = sealed_fields(stale, _record_fields(("email",))).values()
    assert cipher.open_record(new, "rec-1", fields, stale) == ["email"]
    assert stale == {}


def test_given_one_tampered_field_and_one_non_token_then_only_those_fail(
    cipher: FieldCipher, key: DataKey
) -> None:
    context = FieldContext("customers", "email", "rec-1")
    tampered = bytearray(_decode(cipher.encrypt(key, context, "a@x.cn")))
    tampered[-1] ^= 1
    row: dict[str, object] = {
        "email": _encode(bytes(tampered)),
        "phone": cipher.encrypt(key, FieldContext("customers", "phone", "rec-1"), "139"),
        "address": cipher.encrypt(key, FieldContext("customers", "address", "rec-2"), "moved"),
        "bank_card": "not a token!",
    }
    grouped = sealed_fields(row, _record_fields(("email", "phone", "address", "bank_card")))

    assert [name for name, _, _ in grouped[UNREADABLE]] == ["bank_card"]
    failed = cipher.open_record(key, "rec-1", grouped[key_tag(key)], row)

    # Tampered, and copied from another record: each withheld; the rest opens.
    assert failed == ["email", "address"]
    assert row == {"phone": "139", "bank_card": "not a token!"}
    assert cipher.decryptions == 3
