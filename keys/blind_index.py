"""Blind indexes: a keyed MAC of a normalized value, so exact lookups need no decryption.

The index key is separate from every data key and never leaves the process. Each field
gets its own domain, so equal strings in different fields index differently.
"""

from __future__ import annotations

from keys.suites import CipherSuite

INDEX_HEX_CHARS = 32  # 128 bits: collisions are negligible, the column stays small


class BlindIndexer:
    __slots__ = ("_key", "_suite")

    def __init__(self, key: bytes, suite: CipherSuite) -> None:
        self._key = key
        self._suite = suite

    def __repr__(self) -> str:
        return f"BlindIndexer(suite={self._suite.name}, key=***)"

    def index(self, field: str, normalized: str) -> str:
        data = field.encode() + b"\x00" + normalized.encode("utf-8")
        return self._suite.mac(self._key, data).hex()[:INDEX_HEX_CHARS]
