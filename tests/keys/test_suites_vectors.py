"""Cipher suites (keys/suites.py) against published test vectors.

Sources: the GCM specification (McGrew & Viega, "The Galois/Counter Mode of Operation",
test cases 13, 14 and 16, AES-256); GB/T 32907-2016 Appendix A example 1 (SM4);
RFC 8998 Appendix A.1 (SM4-GCM); GB/T 32905-2016 Appendix A (SM3); GM/T 0042-2015
Appendix D.3 (HMAC-SM3); RFC 4231 (HMAC-SHA-256).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from keys import (
    AES256GCM,
    SM4GCM,
    SUITES,
    CipherSuite,
    CiphertextIntegrityError,
    UnknownSuiteError,
    suite_named,
)
from keys.suites import suite_by_id

h = bytes.fromhex


@dataclass(frozen=True)
class AeadVector:
    name: str
    suite: CipherSuite
    key: bytes
    nonce: bytes
    aad: bytes
    plaintext: bytes
    ciphertext: bytes
    tag: bytes


GCM_SPEC_KEY = h("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")

AEAD_VECTORS = [
    AeadVector(
        "gcm-spec-tc13-aes256-empty",
        AES256GCM,
        key=bytes(32),
        nonce=bytes(12),
        aad=b"",
        plaintext=b"",
        ciphertext=b"",
        tag=h("530f8afbc74536b9a963b4f1c4cb738b"),
    ),
    AeadVector(
        "gcm-spec-tc14-aes256-one-block",
        AES256GCM,
        key=bytes(32),
        nonce=bytes(12),
        aad=b"",
        plaintext=bytes(16),
        ciphertext=h("cea7403d4d606b6e074ec5d3baf39d18"),
        tag=h("d0d1c8a799996bf0265b98b5d48ab919"),
    ),
    AeadVector(
        "gcm-spec-tc16-aes256-aad",
        AES256GCM,
        key=GCM_SPEC_KEY,
        nonce=h("cafebabefacedbaddecaf888"),
        aad=h("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
        plaintext=h(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ),
        ciphertext=h(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        ),
        tag=h("76fc6ece0f4e1768cddf8853bb2d551b"),
    ),
    AeadVector(
        "rfc8998-a1-sm4gcm",
        SM4GCM,
        key=h("0123456789abcdeffedcba9876543210"),
        nonce=h("00001234567800000000abcd"),
        aad=h("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
        plaintext=h(
            "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
            "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
        ),
        ciphertext=h(
            "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
            "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
        ),
        tag=h("83de3541e4c2b58177e065a9bf7b62ec"),
    ),
]

# The vectors that carry associated data and a body, for tampering every region.
TAMPER_VECTORS = [v for v in AEAD_VECTORS if v.aad and v.plaintext]


def _ids(vector: AeadVector) -> str:
    return vector.name


# --- AEAD ------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", AEAD_VECTORS, ids=_ids)
def test_given_published_vector_then_seal_returns_ciphertext_then_tag(vector: AeadVector) -> None:
    sealed = vector.suite.seal(vector.key, vector.nonce, vector.plaintext, vector.aad)
    keyed = vector.suite.keyed(vector.key).seal(vector.nonce, vector.plaintext, vector.aad)

    assert sealed == vector.ciphertext + vector.tag
    assert keyed == vector.ciphertext + vector.tag


@pytest.mark.parametrize("vector", AEAD_VECTORS, ids=_ids)
def test_given_published_vector_then_open_returns_the_plaintext(vector: AeadVector) -> None:
    sealed = vector.ciphertext + vector.tag

    assert vector.suite.open(vector.key, vector.nonce, sealed, vector.aad) == vector.plaintext
    assert vector.suite.keyed(vector.key).open(vector.nonce, sealed, vector.aad) == vector.plaintext


VIAS = ["suite", "keyed"]


def _open(
    via: str, vector: AeadVector, key: bytes, nonce: bytes, sealed: bytes, aad: bytes
) -> bytes:
    """Open through the suite's one-shot call or through its keyed AEAD (what fields use)."""
    if via == "suite":
        return vector.suite.open(key, nonce, sealed, aad)
    return vector.suite.keyed(key).open(nonce, sealed, aad)


def _flipped(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("vector", TAMPER_VECTORS, ids=_ids)
def test_given_any_flipped_byte_of_ciphertext_or_tag_then_open_raises_integrity_error(
    vector: AeadVector, via: str
) -> None:
    sealed = vector.ciphertext + vector.tag

    for position in range(len(sealed)):
        with pytest.raises(CiphertextIntegrityError):
            _open(via, vector, vector.key, vector.nonce, _flipped(sealed, position), vector.aad)


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("vector", TAMPER_VECTORS, ids=_ids)
def test_given_any_flipped_byte_of_nonce_then_open_raises_integrity_error(
    vector: AeadVector, via: str
) -> None:
    sealed = vector.ciphertext + vector.tag

    for position in range(len(vector.nonce)):
        with pytest.raises(CiphertextIntegrityError):
            _open(via, vector, vector.key, _flipped(vector.nonce, position), sealed, vector.aad)


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("vector", TAMPER_VECTORS, ids=_ids)
def test_given_any_flipped_byte_of_aad_then_open_raises_integrity_error(
    vector: AeadVector, via: str
) -> None:
    sealed = vector.ciphertext + vector.tag

    for position in range(len(vector.aad)):
        with pytest.raises(CiphertextIntegrityError):
            _open(via, vector, vector.key, vector.nonce, sealed, _flipped(vector.aad, position))


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("vector", TAMPER_VECTORS, ids=_ids)
def test_given_aad_dropped_or_extended_then_open_raises_integrity_error(
    vector: AeadVector, via: str
) -> None:
    sealed = vector.ciphertext + vector.tag

    for aad in (b"", vector.aad[:-1], vector.aad + b"\x00"):
        with pytest.raises(CiphertextIntegrityError):
            _open(via, vector, vector.key, vector.nonce, sealed, aad)


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("vector", TAMPER_VECTORS, ids=_ids)
def test_given_another_key_then_open_raises_integrity_error(vector: AeadVector, via: str) -> None:
    sealed = vector.ciphertext + vector.tag

    with pytest.raises(CiphertextIntegrityError):
        _open(via, vector, _flipped(vector.key, 0), vector.nonce, sealed, vector.aad)


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("vector", TAMPER_VECTORS, ids=_ids)
def test_given_truncated_sealed_text_then_open_raises_integrity_error(
    vector: AeadVector, via: str
) -> None:
    sealed = vector.ciphertext + vector.tag

    for keep in (0, 1, 15, 16, len(vector.ciphertext), len(sealed) - 1):
        with pytest.raises(CiphertextIntegrityError):
            _open(via, vector, vector.key, vector.nonce, sealed[:keep], vector.aad)


# --- the primitives the SM suite builds on --------------------------------------------


def test_given_gbt_32907_example_1_then_sm4_block_cipher_matches() -> None:
    """GB/T 32907-2016 A.1: key = plaintext = 0123456789abcdeffedcba9876543210."""
    key = h("0123456789abcdeffedcba9876543210")
    # One block under ECB is the bare block cipher, which is what the standard's vector tests.
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305

    ciphertext = encryptor.update(key) + encryptor.finalize()

    assert ciphertext.hex() == "681edf34d206965e86b3e94f536e4246"


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
        (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
    ],
    ids=["abc", "abcd-x16"],
)
def test_given_gbt_32905_examples_then_sm3_matches(message: bytes, digest: str) -> None:
    hasher = hashes.Hash(hashes.SM3())
    hasher.update(message)

    assert hasher.finalize().hex() == digest


# --- MACs through the suites ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "data", "mac"),
    [
        pytest.param(
            bytes(range(1, 33)),
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2,
            "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a",
            id="d3-1",
        ),
        pytest.param(
            bytes(range(1, 38)),
            b"\xcd" * 50,
            "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae",
            id="d3-2-key-longer-than-digest",
        ),
        pytest.param(
            b"\x0b" * 32,
            b"Hi There",
            "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e",
            id="d3-3",
        ),
        pytest.param(
            b"Jefe",
            b"what do ya want for nothing?",
            "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882",
            id="d3-4-short-key",
        ),
    ],
)
def test_given_gmt_0042_vectors_then_sm4gcm_mac_is_hmac_sm3(
    key: bytes, data: bytes, mac: str
) -> None:
    assert SM4GCM.mac(key, data).hex() == mac


@pytest.mark.parametrize(
    ("key", "data", "mac"),
    [
        pytest.param(
            b"\x0b" * 20,
            b"Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            id="case-1",
        ),
        pytest.param(
            b"Jefe",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            id="case-2",
        ),
        pytest.param(
            b"\xaa" * 131,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            id="case-6-key-longer-than-block",
        ),
    ],
)
def test_given_rfc_4231_vectors_then_aes256gcm_mac_is_hmac_sha256(
    key: bytes, data: bytes, mac: str
) -> None:
    assert AES256GCM.mac(key, data).hex() == mac


# --- the registry ------------------------------------------------------------------------


def test_given_suite_names_then_suite_named_returns_each_suite() -> None:
    assert suite_named("aes256gcm") is AES256GCM
    assert suite_named("sm4gcm") is SM4GCM
    assert SUITES == {"aes256gcm": AES256GCM, "sm4gcm": SM4GCM}


def test_given_suites_then_ids_are_distinct_and_key_sizes_fit_the_cipher() -> None:
    assert (AES256GCM.id, AES256GCM.key_bytes) == (1, 32)
    assert (SM4GCM.id, SM4GCM.key_bytes) == (2, 16)
    assert suite_by_id(1) is AES256GCM
    assert suite_by_id(2) is SM4GCM


@pytest.mark.parametrize("name", ["aes128gcm", "", "sm4", "chacha20poly1305"])
def test_given_unknown_name_then_suite_named_raises_naming_the_choices(name: str) -> None:
    with pytest.raises(UnknownSuiteError) as caught:
        suite_named(name)

    message = str(caught.value)
    assert repr(name) in message
    assert "aes256gcm" in message
    assert "sm4gcm" in message
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("suite_id", [0, 3, 255])
def test_given_unknown_suite_id_then_suite_by_id_raises_integrity_error(suite_id: int) -> None:
    with pytest.raises(CiphertextIntegrityError):
        suite_by_id(suite_id)
