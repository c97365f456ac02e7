"""Sealed tokens (keys/sealing.py): page cursors that hide what they point at."""

from __future__ import annotations

import base64
import os
import re

import pytest

from keys import InvalidToken, Sealer

KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(KEY)


def _decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize("plaintext", [b"", b"cust-01J9Z3", "客户".encode(), os.urandom(300)])
def test_given_sealed_plaintext_then_open_returns_it(sealer: Sealer, plaintext: bytes) -> None:
    token = sealer.seal(plaintext, b"customers")

    assert sealer.open(token, b"customers") == plaintext


def test_given_token_then_a_second_sealer_with_the_same_key_opens_it(sealer: Sealer) -> None:
    assert Sealer(KEY).open(sealer.seal(b"cursor", b"ctx"), b"ctx") == b"cursor"


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
    token = Sealer(OTHER_KEY).seal(b"cursor", b"ctx")

    with pytest.raises(InvalidToken):
        sealer.open(token, b"ctx")


@pytest.mark.parametrize(("sealed_with", "opened_with"), [(b"orders", b"customers"), (b"a", b"")])
def test_given_wrong_context_then_open_raises_invalid_token(
    sealer: Sealer, sealed_with: bytes, opened_with: bytes
) -> None:
    token = sealer.seal(b"cursor", sealed_with)

    with pytest.raises(InvalidToken):
        sealer.open(token, opened_with)


def test_given_invalid_token_then_the_error_carries_no_key_or_plaintext(sealer: Sealer) -> None:
    token = sealer.seal(b"cust-01J9Z3", b"ctx")

    with pytest.raises(InvalidToken) as caught:
        sealer.open(token, b"other")

    message = str(caught.value)
    assert "cust-01J9Z3" not in message
    assert KEY.hex() not in message
    assert caught.value.__cause__ is None
