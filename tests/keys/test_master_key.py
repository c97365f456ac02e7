"""The master key, its local provider, HKDF subkeys and sealed tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import stat
from pathlib import Path

import pytest

from keys import (
    MASTER_KEY_ENV,
    InvalidToken,
    LocalKeyProvider,
    MasterKey,
    MasterKeyError,
    Sealer,
)

MATERIAL = bytes(range(32))
OTHER_MATERIAL = bytes(range(100, 132))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_forms(material: bytes) -> list[str]:
    """Every printable form key material could leak in."""
    return [
        material.hex(),
        material.hex().upper(),
        b64(material),
        b64(material).rstrip("="),
        base64.urlsafe_b64encode(material).decode("ascii").rstrip("="),
        repr(material),
    ]


def assert_no_key_material(text: str, material: bytes) -> None:
    for form in key_forms(material):
        assert form not in text


def hkdf_sha256(ikm: bytes, info: bytes, length: int, salt: bytes = b"") -> bytes:
    """RFC 5869 written out with the standard library, as an independent reference."""
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- LocalKeyProvider.create ------------------------------------------------------------


def test_given_empty_data_dir_then_create_writes_a_0600_base64_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    provider = LocalKeyProvider(data_dir, environ={})

    key = provider.create()

    path = data_dir / "master.key"
    assert provider.path == path
    assert mode_of(path) == 0o600
    material = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    assert len(material) == 32
    assert MasterKey(material).key_id == key.key_id
    assert provider.load().key_id == key.key_id


def test_given_existing_key_then_create_keeps_it_unchanged(tmp_path: Path) -> None:
    provider = LocalKeyProvider(tmp_path, environ={})
    first = provider.create()
    before = (tmp_path / "master.key").read_bytes()

    second = LocalKeyProvider(tmp_path, environ={}).create()

    assert second.key_id == first.key_id
    assert (tmp_path / "master.key").read_bytes() == before


def test_given_corrupted_existing_key_then_create_refuses_and_does_not_overwrite(
    tmp_path: Path,
) -> None:
    path = tmp_path / "master.key"
    path.write_text("this is not a key\n", encoding="ascii")

    with pytest.raises(MasterKeyError, match="not valid base64"):
        LocalKeyProvider(tmp_path, environ={}).create()

    assert path.read_text(encoding="ascii") == "this is not a key\n"


def test_given_two_new_data_dirs_then_create_makes_different_keys(tmp_path: Path) -> None:
    first = LocalKeyProvider(tmp_path / "a", environ={}).create()
    second = LocalKeyProvider(tmp_path / "b", environ={}).create()

    assert first.key_id != second.key_id


def test_given_key_in_environment_then_create_writes_no_file(tmp_path: Path) -> None:
    provider = LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: b64(MATERIAL)})

    key = provider.create()

    assert key.key_id == MasterKey(MATERIAL).key_id
    assert not (tmp_path / "master.key").exists()


# --- LocalKeyProvider.load --------------------------------------------------------------


def test_given_key_in_environment_then_load_prefers_it_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text(b64(OTHER_MATERIAL) + "\n", encoding="ascii")

    from_env = LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: b64(MATERIAL)}).load()
    from_file = LocalKeyProvider(tmp_path, environ={}).load()

    assert from_env.key_id == MasterKey(MATERIAL).key_id
    assert from_file.key_id == MasterKey(OTHER_MATERIAL).key_id


def test_given_empty_environment_value_then_load_falls_back_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text(b64(MATERIAL), encoding="ascii")

    key = LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: ""}).load()

    assert key.key_id == MasterKey(MATERIAL).key_id


def test_given_no_file_and_no_environment_then_load_names_both_sources(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError) as caught:
        LocalKeyProvider(tmp_path, environ={}).load()

    message = str(caught.value)
    assert "no master key" in message
    assert str(tmp_path / "master.key") in message
    assert MASTER_KEY_ENV in message
    assert "wardgate init" in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b64(MATERIAL)[:-4] + "!!!!", "not valid base64"),
        (base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode("ascii"), "not valid base64"),
        (b64(MATERIAL[:16]), "must decode to 32 bytes"),
        (b64(MATERIAL + b"\x00"), "must decode to 32 bytes"),
        (b64(MATERIAL[:31]), "must decode to 32 bytes"),
    ],
)
def test_given_bad_key_file_then_load_names_the_problem_without_key_material(
    tmp_path: Path, content: str, problem: str
) -> None:
    (tmp_path / "master.key").write_text(content + "\n", encoding="ascii")

    with pytest.raises(MasterKeyError) as caught:
        LocalKeyProvider(tmp_path, environ={}).load()

    message = str(caught.value)
    assert problem in message
    assert str(tmp_path / "master.key") in message
    assert content not in message
    assert_no_key_material(message, MATERIAL)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("%%" + b64(MATERIAL), "not valid base64"),
        (b64(MATERIAL[:20]), "must decode to 32 bytes"),
    ],
)
def test_given_bad_key_in_environment_then_load_names_the_variable_not_the_value(
    tmp_path: Path, value: str, problem: str
) -> None:
    with pytest.raises(MasterKeyError) as caught:
        LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: value}).load()

    message = str(caught.value)
    assert problem in message
    assert f"${MASTER_KEY_ENV}" in message
    assert value not in message
    assert_no_key_material(message, MATERIAL)


def test_given_key_file_that_is_not_ascii_then_load_says_it_cannot_be_read(
    tmp_path: Path,
) -> None:
    material = bytes(range(200, 232))
    (tmp_path / "master.key").write_bytes(material)

    with pytest.raises(MasterKeyError, match="cannot be read") as caught:
        LocalKeyProvider(tmp_path, environ={}).load()

    assert_no_key_material(str(caught.value), material)


def test_given_key_path_that_is_a_directory_then_load_says_it_cannot_be_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "master.key").mkdir()

    with pytest.raises(MasterKeyError, match="cannot be read"):
        LocalKeyProvider(tmp_path, environ={}).load()


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_given_material_of_wrong_length_then_master_key_refuses_it(length: int) -> None:
    material = os.urandom(length)

    with pytest.raises(MasterKeyError, match="32 bytes") as caught:
        MasterKey(material)

    if material:
        assert_no_key_material(str(caught.value), material)


# --- nothing prints key material --------------------------------------------------------


def test_given_master_key_then_repr_and_str_show_only_its_id() -> None:
    key = MasterKey(MATERIAL)

    for text in (repr(key), str(key), f"{key}", f"{key!r}"):
        assert_no_key_material(text, MATERIAL)
        assert key.key_id in text
        assert "***" in text


def test_given_master_key_then_key_id_is_stable_short_and_not_a_prefix_of_the_key() -> None:
    key = MasterKey(MATERIAL)

    assert key.key_id == MasterKey(MATERIAL).key_id
    assert key.key_id != MasterKey(OTHER_MATERIAL).key_id
    assert re.fullmatch(r"[0-9a-f]{16}", key.key_id)
    assert key.key_id not in MATERIAL.hex()


def test_given_sealer_then_repr_and_str_hide_its_key() -> None:
    key = MasterKey(MATERIAL).derive("wardgate/cursor/v1")
    sealer = Sealer(key)

    for text in (repr(sealer), str(sealer)):
        assert_no_key_material(text, key)
        assert_no_key_material(text, MATERIAL)


def test_given_provider_with_key_in_environment_then_repr_hides_it(tmp_path: Path) -> None:
    provider = LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: b64(MATERIAL)})

    for text in (repr(provider), str(provider)):
        assert_no_key_material(text, MATERIAL)
        assert str(tmp_path / "master.key") in text


def test_given_provider_with_key_file_then_repr_hides_it(tmp_path: Path) -> None:
    provider = LocalKeyProvider(tmp_path, environ={})
    provider.create()
    material = base64.b64decode((tmp_path / "master.key").read_text(encoding="ascii"))

    assert_no_key_material(repr(provider), material)
    assert_no_key_material(repr(provider.load()), material)


# --- derive -----------------------------------------------------------------------------


def test_given_rfc5869_vectors_then_reference_hkdf_matches_them() -> None:
    """Check the reference below against RFC 5869 A.1 and A.3 before trusting it."""
    ikm = bytes([0x0B]) * 22
    case_1 = hkdf_sha256(ikm, bytes(range(0xF0, 0xFA)), 42, salt=bytes(range(13)))
    case_3 = hkdf_sha256(ikm, b"", 42)

    assert case_1.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )
    assert case_3.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


@pytest.mark.parametrize("label", ["wardgate/pseudonym/v1", "wardgate/cursor/v1", "标签", ""])
def test_given_label_then_derive_is_hkdf_sha256_without_salt_and_label_as_info(label: str) -> None:
    assert MasterKey(MATERIAL).derive(label) == hkdf_sha256(MATERIAL, label.encode("utf-8"), 32)


def test_given_same_key_and_label_then_derive_is_deterministic() -> None:
    assert MasterKey(MATERIAL).derive("wardgate/pseudonym/v1") == MasterKey(MATERIAL).derive(
        "wardgate/pseudonym/v1"
    )


def test_given_different_labels_then_subkeys_differ() -> None:
    key = MasterKey(MATERIAL)
    labels = ["wardgate/pseudonym/v1", "wardgate/cursor/v1", "wardgate/pseudonym/v2", ""]

    subkeys = {key.derive(label) for label in labels}

    assert len(subkeys) == len(labels)
    assert MATERIAL not in subkeys


def test_given_different_master_keys_then_same_label_gives_different_subkeys() -> None:
    label = "wardgate/pseudonym/v1"

    assert MasterKey(MATERIAL).derive(label) != MasterKey(OTHER_MATERIAL).derive(label)


@pytest.mark.parametrize("length", [16, 32, 64, 255])
def test_given_length_then_derive_returns_that_many_bytes(length: int) -> None:
    assert len(MasterKey(MATERIAL).derive("wardgate/test", length=length)) == length


# --- Sealer -----------------------------------------------------------------------------


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(MasterKey(MATERIAL).derive("wardgate/cursor/v1"))


def _decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize("plaintext", [b"", b"cust-01J9Z3", "客户".encode(), os.urandom(300)])
def test_given_sealed_plaintext_then_open_returns_it(sealer: Sealer, plaintext: bytes) -> None:
    token = sealer.seal(plaintext, b"customers")

    assert sealer.open(token, b"customers") == plaintext


def test_given_sealed_token_then_it_is_url_safe_and_hides_the_plaintext(sealer: Sealer) -> None:
    plaintext = b"01J9Z3CUSTOMERID"

    token = sealer.seal(plaintext)

    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert plaintext not in _decode(token)
    assert plaintext.decode() not in token


def test_given_same_plaintext_sealed_twice_then_tokens_differ(sealer: Sealer) -> None:
    first = sealer.seal(b"cursor", b"ctx")
    second = sealer.seal(b"cursor", b"ctx")

    assert first != second
    assert sealer.open(first, b"ctx") == sealer.open(second, b"ctx") == b"cursor"


@pytest.mark.parametrize("position", [0, 11, 12, 20, -1])
def test_given_token_with_one_flipped_bit_then_open_raises_invalid_token(
    sealer: Sealer, position: int
) -> None:
    raw = bytearray(_decode(sealer.seal(b"page-2 of customers")))
    raw[position] ^= 0x01

    with pytest.raises(InvalidToken):
        sealer.open(_encode(bytes(raw)))


@pytest.mark.parametrize("keep", [0, 1, 5, 12, 13, 27, -1])
def test_given_truncated_token_then_open_raises_invalid_token(sealer: Sealer, keep: int) -> None:
    raw = _decode(sealer.seal(b"page-2 of customers"))

    with pytest.raises(InvalidToken):
        sealer.open(_encode(raw[:keep]))


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_given_token_text_cut_short_then_open_raises_invalid_token(
    sealer: Sealer, cut: int
) -> None:
    token = sealer.seal(b"page-2 of customers")

    with pytest.raises(InvalidToken):
        sealer.open(token[:-cut])


@pytest.mark.parametrize("garbage", ["", "=", "not a token!", "é" * 40, "A" * 3, "%00" * 20])
def test_given_garbage_then_open_raises_invalid_token(sealer: Sealer, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        sealer.open(garbage)


def test_given_token_from_another_key_then_open_raises_invalid_token(sealer: Sealer) -> None:
    other = Sealer(MasterKey(OTHER_MATERIAL).derive("wardgate/cursor/v1"))
    other_label = Sealer(MasterKey(MATERIAL).derive("wardgate/pseudonym/v1"))
    token = other.seal(b"cursor", b"ctx")

    with pytest.raises(InvalidToken):
        sealer.open(token, b"ctx")
    with pytest.raises(InvalidToken):
        other_label.open(token, b"ctx")


@pytest.mark.parametrize(("sealed_with", "opened_with"), [(b"orders", b"customers"), (b"a", b"")])
def test_given_wrong_context_then_open_raises_invalid_token(
    sealer: Sealer, sealed_with: bytes, opened_with: bytes
) -> None:
    token = sealer.seal(b"cursor", sealed_with)

    with pytest.raises(InvalidToken):
        sealer.open(token, opened_with)
