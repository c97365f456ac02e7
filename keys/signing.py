"""Ed25519 note keys (c2sp.org/signed-note), interoperable with golang.org/x/mod/sumdb/note.

A key has a name and a 4-byte key id, SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4].
Its public half travels as a verifier key string, `<name>+<id hex>+<base64(0x01 ‖ key)>`,
which is what an auditor pins. The id only says which key signed; trust comes from the
pinned public key, so a colliding id just fails verification.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from keys.errors import CryptoError

ALG_ED25519 = 0x01
SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
KEY_ID_BYTES = 4

_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}", re.ASCII)


class InvalidVerifierKey(CryptoError):
    """A verifier key string that is malformed, of an unknown algorithm, or whose key id
    does not match its name and public key."""


class InvalidSignerKey(CryptoError):
    """A signing seed of the wrong size, or a key name a note cannot carry."""


def is_valid_key_name(name: str) -> bool:
    """Non-empty UTF-8 without whitespace, "+" or control characters (signed-note)."""
    if not name or "+" in name:
        return False
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def key_id_for(name: str, public_key: bytes) -> bytes:
    """The signed-note key id of an Ed25519 public key under a name."""
    material = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    return hashlib.sha256(material).digest()[:KEY_ID_BYTES]


def _verifier_key(name: str, key_id: bytes, public_key: bytes) -> str:
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode("ascii")
    return f"{name}+{key_id.hex()}+{encoded}"


class NoteSigner:
    """Signs note text with an Ed25519 key; the seed never leaves this object."""

    __slots__ = ("_key", "_key_id", "_name", "_public_key")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        if not is_valid_key_name(name):
            msg = "invalid key name: it must be non-empty, without spaces, '+' or controls"
            raise InvalidSignerKey(msg)
        self._name = name
        self._key = private_key
        self._public_key = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._key_id = key_id_for(name, self._public_key)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> NoteSigner:
        if len(seed) != SEED_BYTES:
            msg = f"an Ed25519 seed is {SEED_BYTES} bytes"
            raise InvalidSignerKey(msg)
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    def __repr__(self) -> str:
        return f"NoteSigner(name={self._name!r}, key_id={self._key_id.hex()}, seed=***)"

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def verifier_key(self) -> str:
        return _verifier_key(self._name, self._key_id, self._public_key)

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self._name, self._public_key)

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of message (deterministic, RFC 8032)."""
        return self._key.sign(message)


class NoteVerifier:
    """Checks Ed25519 note signatures against one pinned public key."""

    __slots__ = ("_key", "_key_id", "_name", "_public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_key_name(name):
            msg = "invalid key name: it must be non-empty, without spaces, '+' or controls"
            raise InvalidVerifierKey(msg)
        if len(public_key) != PUBLIC_KEY_BYTES:
            msg = f"an Ed25519 public key is {PUBLIC_KEY_BYTES} bytes"
            raise InvalidVerifierKey(msg)
        self._name = name
        self._public_key = bytes(public_key)
        self._key = Ed25519PublicKey.from_public_bytes(self._public_key)
        self._key_id = key_id_for(name, self._public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse `<name>+<8 lowercase hex>+<base64(0x01 ‖ key)>`, checking the key id."""
        name, sep1, rest = vkey.partition("+")
        id_hex, sep2, key_b64 = rest.partition("+")
        if not (sep1 and sep2) or not is_valid_key_name(name):
            msg = f"malformed verifier key {vkey!r}: want <name>+<key id>+<key>"
            raise InvalidVerifierKey(msg)
        if not _KEY_ID_HEX.fullmatch(id_hex):
            msg = f"malformed verifier key {vkey!r}: key id must be 8 lowercase hex digits"
            raise InvalidVerifierKey(msg)
        key = _strict_b64decode(key_b64)
        if not key:
            msg = f"malformed verifier key {vkey!r}: key is not canonical padded base64"
            raise InvalidVerifierKey(msg)
        # As sumdb/note: the id covers the algorithm byte too, so check it first.
        expected = hashlib.sha256(name.encode("utf-8") + b"\n" + key).digest()[:KEY_ID_BYTES]
        if bytes.fromhex(id_hex) != expected:
            msg = f"verifier key {vkey!r}: key id does not match name and key"
            raise InvalidVerifierKey(msg)
        if key[0] != ALG_ED25519:
            msg = f"verifier key {vkey!r}: unknown algorithm 0x{key[0]:02x}, want Ed25519"
            raise InvalidVerifierKey(msg)
        if len(key) != 1 + PUBLIC_KEY_BYTES:
            msg = f"verifier key {vkey!r}: an Ed25519 public key is {PUBLIC_KEY_BYTES} bytes"
            raise InvalidVerifierKey(msg)
        return cls(name, key[1:])

    def __repr__(self) -> str:
        return f"NoteVerifier({self.verifier_key!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoteVerifier):
            return NotImplemented
        return (self._name, self._public_key) == (other._name, other._public_key)

    def __hash__(self) -> int:
        return hash((self._name, self._public_key))

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def verifier_key(self) -> str:
        return _verifier_key(self._name, self._key_id, self._public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True only for a valid raw Ed25519 signature of message by this key."""
        if len(signature) != SIGNATURE_BYTES:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def _strict_b64decode(text: str) -> bytes:
    """Standard padded base64 in its one canonical spelling, or b"" if it is not."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return b""
    if base64.b64encode(raw).decode("ascii") != text:
        return b""
    return raw
