"""Field encryption: one value of one field of one record, under its owner's data key.

A ciphertext is `format (1) ‖ suite id (1) ‖ DEK version (4) ‖ nonce (12) ‖ sealed`,
URL-safe base64. The associated data binds entity, field, record id, owner and key
version, so a ciphertext copied to another row or field does not decrypt. Every
failure is the same CiphertextIntegrityError; the caller withholds the field.

Decrypting a page is ~1,000 fields, so the per-field path is kept to what each field
needs: its base64 decoded once (`decode_token`), its associated data joined from a
per-field prefix and a per-record suffix (`aad_prefix` + `record_aad`), one AEAD call
(`FieldCipher.open`).
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from functools import cache
from typing import NamedTuple

from keys.data_keys import DataKey
from keys.errors import CiphertextIntegrityError
from keys.suites import NONCE_BYTES, TAG_BYTES

FORMAT_VERSION = 1
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_HEADER = struct.Struct(">BBI")  # format, suite id, DEK version
_NONCE_AT = _HEADER.size
_SEALED_AT = _HEADER.size + NONCE_BYTES
_SHORTEST = _SEALED_AT + TAG_BYTES
# The padding a token stripped of its "=" needs, by its length modulo 4 (1 is never a
# valid length: strict decoding refuses it).
_PADDING = (b"", b"===", b"==", b"=")


@cache
def aad_prefix(entity: str, field: str) -> bytes:
    """The part of a field's associated data that names the field (cached: a handful)."""
    return f"{entity}.{field}|".encode()


def record_aad(record_id: str, key: DataKey) -> bytes:
    """The part of a field's associated data that names the record and its key: the
    same for every field of one record, so a page builds it once per record."""
    return f"{record_id}|{key.owner_id}|v{key.version}|s{key.suite.id}".encode()


class FieldContext(NamedTuple):
    """Where a value lives; bound into its ciphertext as associated data."""

    entity: str
    field: str
    record_id: str

    def aad(self, key: DataKey) -> bytes:
        return aad_prefix(self.entity, self.field) + record_aad(self.record_id, key)


def decode_token(token: str) -> bytes:
    """A ciphertext's bytes (header, nonce, sealed value), or CiphertextIntegrityError."""
    try:
        # strict_mode: one ciphertext has one spelling; stray characters are tampering.
        raw = binascii.a2b_base64(
            token.encode("ascii").translate(_FROM_URLSAFE) + _PADDING[len(token) & 3],
            strict_mode=True,
        )
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise CiphertextIntegrityError from None
    if len(raw) < _SHORTEST or raw[0] != FORMAT_VERSION:
        raise CiphertextIntegrityError
    return raw


SealedField = tuple[str, bytes, bytes]
"""One encrypted field of a record: its name, `aad_prefix(entity, name)`, and its
ciphertext decoded (`decode_token`; empty when the stored value is not a ciphertext)."""

UNREADABLE = b""
"""The key tag under which `sealed_fields` puts values that are not ciphertexts: no key
has it."""


def sealed_fields(
    values: Mapping[str, object], fields: Iterable[tuple[str, bytes]]
) -> dict[bytes, list[SealedField]]:
    """The ciphertexts among `values` of `fields` (`(name, aad_prefix(entity, name))`),
    decoded and grouped by the key tag they carry (`key_tag`): one group for a
    record, but for a data-key rotation caught midway. Values that are not strings
    (None: no value) are left out; strings that are not ciphertexts go under
    UNREADABLE. `decode_token` inlined: this runs for every field of a page."""
    grouped: dict[bytes, list[SealedField]] = {}
    for name, prefix in fields:
        token = values.get(name)
        if not isinstance(token, str):
            continue
        try:
            raw = binascii.a2b_base64(
                token.encode("ascii").translate(_FROM_URLSAFE) + _PADDING[len(token) & 3],
                strict_mode=True,
            )
            tag = raw[1:_NONCE_AT] if len(raw) >= _SHORTEST and raw[0] == FORMAT_VERSION else b""
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = tag = b""
        group = grouped.get(tag)
        if group is None:
            grouped[tag] = group = []
        group.append((name, prefix, raw))
    return grouped


def key_tag(key: DataKey) -> bytes:
    """The key tag of every ciphertext made under `key`: its suite id and DEK version as
    they stand in the header (five bytes, `raw[1:_NONCE_AT]` of a decoded ciphertext)."""
    return _HEADER.pack(FORMAT_VERSION, key.suite.id, key.version)[1:]


def tag_version(tag: bytes) -> int:
    """The DEK version in a key tag."""
    return int.from_bytes(tag[1:], "big")


def token_key_version(token: str) -> int:
    """The DEK version a ciphertext was made with, without decrypting it."""
    return tag_version(decode_token(token)[1:_NONCE_AT])


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
        return self.open(key, context.aad(key), decode_token(token))

    def open(self, key: DataKey, aad: bytes, raw: bytes) -> str:
        """Decrypt a decoded ciphertext (`decode_token`) whose associated data is `aad`."""
        self.decryptions += 1
        if not raw.startswith(key_tag(key), 1):
            raise CiphertextIntegrityError
        plaintext = key.aead.open(raw[_NONCE_AT:_SEALED_AT], raw[_SEALED_AT:], aad)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise CiphertextIntegrityError from None

    def open_record(
        self,
        key: DataKey,
        record_id: str,
        sealed: Sequence[SealedField],
        into: MutableMapping[str, object],
    ) -> list[str]:
        """Decrypt one record's fields (`sealed_fields`) under `key` into `into[name]`;
        return the names that failed (deleted from `into`). A page's hot loop: the
        key's checks and the record's part of the associated data are done once here,
        then per field one prefix check and one AEAD call."""
        tag = key_tag(key)
        record_part = record_aad(record_id, key)
        aead_open = key.aead.open_fast
        errors: tuple[type[Exception], ...] = (
            CiphertextIntegrityError,
            UnicodeDecodeError,
            *key.aead.open_errors,
        )
        failed: list[str] = []
        for name, prefix, raw in sealed:
            try:
                if not raw.startswith(tag, 1):
                    raise CiphertextIntegrityError
                plaintext = aead_open(
                    raw[_NONCE_AT:_SEALED_AT], raw[_SEALED_AT:], prefix + record_part
                )
                into[name] = plaintext.decode("utf-8")
            except errors:
                del into[name]
                failed.append(name)
        self.decryptions += len(sealed)
        return failed
