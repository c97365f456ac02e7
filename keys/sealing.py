"""Sealed tokens: small authenticated-encrypted blobs handed to clients (page cursors).

A cursor must not reveal the record id it points at (an analyst sees pseudonyms only)
and must not be forgeable, so it is AES-256-GCM under a derived key, URL-safe base64.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.errors import InvalidToken

_NONCE_BYTES = 12


class Sealer:
    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "Sealer(key=***)"

    def seal(self, plaintext: bytes, context: bytes = b"") -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plaintext, context)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, token: str, context: bytes = b"") -> bytes:
        """Open a token; every failure is the same InvalidToken."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            if len(raw) <= _NONCE_BYTES:
                raise InvalidToken("token too short")
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context)
        except (InvalidTag, binascii.Error, ValueError, UnicodeEncodeError):
            raise InvalidToken("invalid token") from None
