"""Data keys (DEKs): one per customer, stored only wrapped by the KEK.

A wrapped key is `suite id ‖ KEK version (4 bytes) ‖ nonce ‖ sealed key`, base64. The
associated data binds it to its owner and version, so a wrapped key copied to another
customer does not unwrap.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys.errors import CiphertextIntegrityError, MasterKeyError
from keys.keyring import Keyring, MasterKey
from keys.suites import NONCE_BYTES, TAG_BYTES, CipherSuite, KeyedAead, suite_by_id

_HEADER = struct.Struct(">BI")  # suite id, KEK version


@dataclass(frozen=True, slots=True)
class DataKey:
    owner_id: str
    version: int
    suite: CipherSuite
    material: bytes = field(repr=False)
    aead: KeyedAead = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The key schedule once per key, not once per field.
        object.__setattr__(self, "aead", self.suite.keyed(self.material))

    def __repr__(self) -> str:
        return (
            f"DataKey(owner={self.owner_id}, version={self.version}, "
            f"suite={self.suite.name}, material=***)"
        )


def new_data_key(owner_id: str, version: int, suite: CipherSuite) -> DataKey:
    return DataKey(owner_id, version, suite, os.urandom(suite.key_bytes))


def _wrapping_key(kek: MasterKey, suite: CipherSuite) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=suite.key_bytes,
        salt=None,
        info=f"wardgate/kek-wrap/{suite.name}".encode(),
    )
    return hkdf.derive(kek.material)


def _aad(owner_id: str, version: int) -> bytes:
    return f"wardgate-key|{owner_id}|{version}".encode()


def wrap(key: DataKey, kek: MasterKey) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.suite.seal(
        _wrapping_key(kek, key.suite), nonce, key.material, _aad(key.owner_id, key.version)
    )
    raw = _HEADER.pack(key.suite.id, kek.version) + nonce + sealed
    return base64.b64encode(raw).decode("ascii")


def unwrap(wrapped: str, owner_id: str, version: int, keyring: Keyring) -> DataKey:
    """Open a wrapped key; MasterKeyError if its KEK version is not in the ring."""
    try:
        raw = base64.b64decode(wrapped, validate=True)
        suite_id, kek_version = _HEADER.unpack_from(raw)
    except (binascii.Error, ValueError, struct.error):
        raise CiphertextIntegrityError from None
    suite = suite_by_id(suite_id)
    if len(raw) < _HEADER.size + NONCE_BYTES + TAG_BYTES:
        raise CiphertextIntegrityError
    kek = keyring.get(kek_version)
    if kek is None:
        msg = f"a key is wrapped under master key version {kek_version}, which is not loaded"
        raise MasterKeyError(msg)
    body = raw[_HEADER.size :]
    material = suite.open(
        _wrapping_key(kek, suite), body[:NONCE_BYTES], body[NONCE_BYTES:], _aad(owner_id, version)
    )
    return DataKey(owner_id, version, suite, material)
