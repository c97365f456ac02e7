"""Export tokens: random, shown once, stored only as their SHA-256 (like API keys);
`repr` never shows one."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

TOKEN_PREFIX = "wgx_"  # noqa: S105 - a prefix that marks export tokens, not a secret


@dataclass(frozen=True, slots=True)
class ExportToken:
    value: str = field(repr=False)

    @classmethod
    def new(cls) -> ExportToken:
        return cls(TOKEN_PREFIX + secrets.token_urlsafe(32))

    @property
    def digest(self) -> str:
        return token_digest(self.value)

    def __repr__(self) -> str:
        return "ExportToken(***)"


def token_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
