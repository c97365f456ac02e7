"""Keyed pseudonyms: HMAC-SHA256 over (purpose, value), stable per purpose.

The purpose is part of the MAC input, so the same person gets unrelated pseudonyms
under different purposes and two datasets released for different purposes cannot be
joined on them; without the key a pseudonym cannot be recomputed from a guess.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Callable

from masking.errors import InvalidOperatorConfigError
from masking.operators._base import MaskingOperator
from masking.operators._config import MaskConfig

__all__ = ["MIN_KEY_BYTES", "PseudonymConfig", "Pseudonymizer"]

MIN_KEY_BYTES = 16
_SHA256_HEX_LENGTH = 64
# Below 8 hex chars (32 bits) distinct people collide after a few ten thousand rows.
_MIN_LENGTH = 8


def _encode(text: str) -> bytes:
    # surrogatepass: a lone surrogate in stored data must not make the read fail.
    return text.encode("utf-8", "surrogatepass")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PseudonymConfig(MaskConfig):
    """`psn_` + the first `length` hex characters of HMAC-SHA256(key, purpose 0x00 value)."""

    key: bytes = dataclasses.field(repr=False)
    purpose: str
    prefix: str = "psn_"
    length: int = 16

    def check(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            msg = f"key must be at least {MIN_KEY_BYTES} bytes"
            raise InvalidOperatorConfigError(msg)
        if not self.purpose:
            msg = "purpose must not be empty"
            raise InvalidOperatorConfigError(msg)
        if not _MIN_LENGTH <= self.length <= _SHA256_HEX_LENGTH:
            msg = f"length must be between {_MIN_LENGTH} and {_SHA256_HEX_LENGTH}"
            raise InvalidOperatorConfigError(msg)


class Pseudonymizer(MaskingOperator[PseudonymConfig]):
    """Replace a value with its keyed pseudonym; empty values get one too."""

    name = "pseudonym"
    config_model = PseudonymConfig

    def mask(self, value: str, config: PseudonymConfig) -> str:
        return self.prepare(config)(value)

    def prepare(self, config: PseudonymConfig) -> Callable[[str], str]:
        # HMAC state after the key and purpose, copied per value: the hot path then
        # hashes only the value, not the key pads and purpose again.
        keyed = hmac.new(config.key, _encode(config.purpose) + b"\x00", hashlib.sha256)
        prefix, length = config.prefix, config.length

        def pseudonymize(value: str) -> str:
            mac = keyed.copy()
            mac.update(_encode(value))
            return prefix + mac.hexdigest()[:length]

        return pseudonymize
