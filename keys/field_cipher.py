"""Field encryption: one value of one field of one record, under its owner's data key.

A ciphertext is `format (1) ‖ suite id (1) ‖ DEK version (4) ‖ nonce (12) ‖ sealed`,
URL-safe base64. The associated data binds entity, field, record id, owner and key
version, so a ciphertext copied to another row or field does not decrypt. Every
failure is the same CiphertextIntegrityError; the caller withholds the field.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from typing import NamedTuple

from keys.data_keys import DataKey
from keys.errors import CiphertextIntegrityError
from keys.suites import NONCE_BYTES, TAG_BYTES

FORMAT_VERSION = 1
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_HEADER = struct.Struct(">BBI")  # format, suite id, DEK version


class FieldContext(NamedTuple):
    """Where a value lives; bound into its ciphertext as associated data.

    A NamedTuple, not a frozen dataclass: one is built per decrypted field, and a
    frozen dataclass's __init__ costs several times more on that hot path."""

    entity: str
    field: str
    record_id: str

    def aad(self, key: DataKey) -> bytes:
        return (
            f"{self.entity}.{self.field}|{self.record_id}|{key.owner_id}|"
            f"v{key.version}|s{key.suite.id}"
        ).encode()


class ParsedToken(NamedTuple):
    """A ciphertext split into its parts, decoded once."""

    suite_id: int
    key_version: int
    nonce: bytes
    sealed: bytes


def parse_token(token: str) -> ParsedToken:
    try:
        # strict_mode: one ciphertext has one spelling; stray characters are tampering.
        padded = token.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(token) % 4)
        raw = binascii.a2b_base64(padded, strict_mode=True)
        fmt, suite_id, version = _HEADER.unpack_from(raw)
    except (binascii.Error, ValueError, struct.error, UnicodeEncodeError):
        raise CiphertextIntegrityError from None
    body = raw[_HEADER.size :]
    if fmt != FORMAT_VERSION or len(body) < NONCE_BYTES + TAG_BYTES:
        raise CiphertextIntegrityError
    return ParsedToken(suite_id, version, body[:NONCE_BYTES], body[NONCE_BYTES:])


def token_key_version(token: str) -> int:
    """The DEK version a ciphertext was made with, without decrypting it."""
    return parse_token(token).key_version


class FieldCipher:
    """Encrypts and decrypts field values; counts decryptions (least-decryption tests)."""

    __slots__ = ("decryptions", "encryptions")

    def __init__(self) -> None:
        self.decryptions = 0
        self.encryptions = 0

    def encrypt(self, key: DataKey, context: FieldContext, plaintext: str) -> str:
        self.encryptions += 1
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.aead.seal(nonce, plaintext.encode("utf-8"), context.aad(key))
        raw = _HEADER.pack(FORMAT_VERSION, key.suite.id, key.version) + nonce + sealed
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def decrypt(self, key: DataKey, context: FieldContext, token: str) -> str:
        return self.decrypt_parsed(key, context, parse_token(token))

    def decrypt_parsed(self, key: DataKey, context: FieldContext, token: ParsedToken) -> str:
        self.decryptions += 1
        if token.key_version != key.version or token.suite_id != key.suite.id:
            raise CiphertextIntegrityError
        plaintext = key.aead.open(token.nonce, token.sealed, context.aad(key))
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise CiphertextIntegrityError from None
