"""Note keys (keys/signing.py) against the golang.org/x/mod/sumdb/note test vectors.

Source: golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestNewSigner,
TestSign, TestVerifierList, TestOpen): the PeterNeumann and EnochRoot keys, the message
and the published signature lines. The signer key string is sumdb/note's
`PRIVATE+KEY+<name>+<key id>+base64(0x01 ‖ seed)`.
"""

from __future__ import annotations

import base64
import hashlib
import os

import pytest

from keys.signing import (
    InvalidSignerKey,
    InvalidVerifierKey,
    NoteSigner,
    NoteVerifier,
    key_id_for,
)

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_KEY_ID = bytes.fromhex("c74f20a3")
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
MESSAGE = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
PETER_SIG_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_SIG_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)


def _peter_seed() -> bytes:
    prefix_private, prefix_key, name, key_id, key_b64 = PETER_SKEY.split("+", 4)
    assert (prefix_private, prefix_key, name, key_id) == (
        "PRIVATE",
        "KEY",
        "PeterNeumann",
        "c74f20a3",
    )
    raw = base64.b64decode(key_b64, validate=True)
    assert raw[0] == 0x01  # Ed25519
    return raw[1:]


def _split_sig(b64: str) -> tuple[bytes, bytes]:
    raw = base64.b64decode(b64, validate=True)
    return raw[:4], raw[4:]


@pytest.fixture
def peter_signer() -> NoteSigner:
    return NoteSigner.from_seed("PeterNeumann", _peter_seed())


@pytest.fixture
def peter() -> NoteVerifier:
    return NoteVerifier.from_vkey(PETER_VKEY)


def test_given_sumdb_seed_then_signer_derives_the_published_key_id_and_vkey(
    peter_signer: NoteSigner,
) -> None:
    assert peter_signer.name == "PeterNeumann"
    assert peter_signer.key_id == PETER_KEY_ID
    assert peter_signer.verifier_key == PETER_VKEY


def test_given_sumdb_vkey_then_verifier_has_its_name_and_key_id(peter: NoteVerifier) -> None:
    assert peter.name == "PeterNeumann"
    assert peter.key_id == PETER_KEY_ID
    assert peter.verifier_key == PETER_VKEY


def test_given_public_key_then_key_id_is_sha256_of_name_newline_0x01_key() -> None:
    public_key = base64.b64decode(PETER_VKEY.split("+", 2)[2])[1:]
    digest = hashlib.sha256(b"PeterNeumann\n\x01" + public_key).digest()

    assert key_id_for("PeterNeumann", public_key) == digest[:4] == PETER_KEY_ID


def test_given_published_signature_then_verifier_accepts_it(peter: NoteVerifier) -> None:
    key_id, signature = _split_sig(PETER_SIG_B64)

    assert key_id == PETER_KEY_ID
    assert peter.verify(MESSAGE, signature)


def test_given_sumdb_message_then_signer_reproduces_the_published_signature(
    peter_signer: NoteSigner,
) -> None:
    """Ed25519 is deterministic, so our signature is byte-for-byte sumdb's."""
    assert peter_signer.sign(MESSAGE) == _split_sig(PETER_SIG_B64)[1]


def test_given_second_published_key_then_its_signature_verifies() -> None:
    enoch = NoteVerifier.from_vkey(ENOCH_VKEY)
    key_id, signature = _split_sig(ENOCH_SIG_B64)

    assert (enoch.name, enoch.key_id) == ("EnochRoot", key_id)
    assert enoch.verify(MESSAGE, signature)


def test_given_tampered_message_then_verify_fails(peter: NoteVerifier) -> None:
    signature = _split_sig(PETER_SIG_B64)[1]

    assert not peter.verify(MESSAGE.replace(b"answer", b"Answer"), signature)
    assert not peter.verify(MESSAGE[:-1], signature)


@pytest.mark.parametrize("position", [0, 31, 32, 63])
def test_given_signature_with_flipped_bit_then_verify_fails(
    peter: NoteVerifier, position: int
) -> None:
    signature = bytearray(_split_sig(PETER_SIG_B64)[1])
    signature[position] ^= 0x01

    assert not peter.verify(MESSAGE, bytes(signature))


@pytest.mark.parametrize("length", [0, 63, 65])
def test_given_signature_of_wrong_length_then_verify_fails(
    peter: NoteVerifier, length: int
) -> None:
    assert not peter.verify(MESSAGE, (_split_sig(PETER_SIG_B64)[1] * 2)[:length])


def test_given_signature_by_another_key_then_verify_fails(peter: NoteVerifier) -> None:
    assert not peter.verify(MESSAGE, _split_sig(ENOCH_SIG_B64)[1])


def test_given_fresh_seed_then_signer_and_its_vkey_verifier_agree() -> None:
    signer = NoteSigner.from_seed("wardgate.example/audit", os.urandom(32))
    verifier = NoteVerifier.from_vkey(signer.verifier_key)

    assert verifier == signer.verifier()
    assert (verifier.name, verifier.key_id) == (signer.name, signer.key_id)
    assert verifier.verify(b"hi", signer.sign(b"hi"))
    assert not verifier.verify(b"hj", signer.sign(b"hi"))


def test_given_signer_then_repr_shows_no_seed(peter_signer: NoteSigner) -> None:
    seed = _peter_seed()
    text = repr(peter_signer)

    assert "seed=***" in text
    for spelling in (seed.hex(), base64.b64encode(seed).decode(), repr(seed)):
        assert spelling not in text


def test_given_any_truncation_or_one_char_change_of_vkey_then_it_is_refused() -> None:
    """Every proper substring and every single-character bump, as TestNewVerifier."""
    manglings = [
        PETER_VKEY[i:j]
        for i in range(len(PETER_VKEY) + 1)
        for j in range(i + 1, len(PETER_VKEY) + 1)
        if (i, j) != (0, len(PETER_VKEY))
    ]
    manglings += [
        PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        for i in range(len(PETER_VKEY))
    ]

    accepted = []
    for vkey in manglings:
        try:
            NoteVerifier.from_vkey(vkey)
        except InvalidVerifierKey:
            continue
        accepted.append(vkey)
    assert accepted == []


def test_given_vkey_with_wrong_key_id_then_it_is_refused() -> None:
    with pytest.raises(InvalidVerifierKey, match="key id does not match"):
        NoteVerifier.from_vkey(PETER_VKEY.replace("c74f20a3", "c74f20a4"))


def test_given_vkey_of_unknown_algorithm_with_matching_key_id_then_it_is_refused() -> None:
    """sumdb's vector: algorithm byte 0x65 ("Z…"), key id recomputed to match."""
    vkey = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

    with pytest.raises(InvalidVerifierKey, match="unknown algorithm 0x65"):
        NoteVerifier.from_vkey(vkey)


def test_given_vkey_with_trailing_bytes_from_sumdb_then_it_is_refused() -> None:
    with pytest.raises(InvalidVerifierKey):
        NoteVerifier.from_vkey(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )


@pytest.mark.parametrize("key_length", [31, 33])
def test_given_vkey_with_wrong_key_length_and_matching_key_id_then_it_is_refused(
    key_length: int,
) -> None:
    encoded = b"\x01" + bytes(range(key_length))
    key_id = hashlib.sha256(b"PeterNeumann\n" + encoded).digest()[:4]
    vkey = f"PeterNeumann+{key_id.hex()}+{base64.b64encode(encoded).decode()}"

    with pytest.raises(InvalidVerifierKey, match="32 bytes"):
        NoteVerifier.from_vkey(vkey)


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
        "PeterNeumann+c74f20a3+ ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter\u00a0Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
    ids=[
        "empty",
        "name-only",
        "no-key",
        "empty-name",
        "uppercase-id",
        "id-with-0x",
        "urlsafe-base64",
        "trailing-newline",
        "space-before-key",
        "space-in-name",
        "nbsp-in-name",
    ],
)
def test_given_malformed_vkey_then_it_is_refused(vkey: str) -> None:
    with pytest.raises(InvalidVerifierKey):
        NoteVerifier.from_vkey(vkey)


@pytest.mark.parametrize("seed_length", [0, 31, 33, 64])
def test_given_seed_of_wrong_length_then_signer_is_refused(seed_length: int) -> None:
    with pytest.raises(InvalidSignerKey, match="32 bytes"):
        NoteSigner.from_seed("PeterNeumann", bytes(range(seed_length)))


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a\tb", "a\nb", "a\x00b", "a\u2003b"])
def test_given_invalid_key_name_then_signer_is_refused(name: str) -> None:
    with pytest.raises(InvalidSignerKey, match="invalid key name"):
        NoteSigner.from_seed(name, _peter_seed())


def test_given_non_ascii_name_then_key_id_hashes_its_utf8() -> None:
    signer = NoteSigner.from_seed("审计日志", _peter_seed())
    public_key = base64.b64decode(signer.verifier_key.split("+", 2)[2])[1:]

    assert (
        signer.key_id == hashlib.sha256("审计日志\n".encode() + b"\x01" + public_key).digest()[:4]
    )
    assert NoteVerifier.from_vkey(signer.verifier_key) == signer.verifier()
