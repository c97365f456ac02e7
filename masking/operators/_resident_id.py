"""PRC resident identity card numbers (GB 11643): first 3 + last 4."""

from __future__ import annotations

import dataclasses
import re

from masking.operators._partial import PartialConfig, PartialMask

__all__ = ["ResidentIdConfig", "ResidentIdMask"]

_WHITESPACE = re.compile(r"\s")
# 18-character numbers end in a check character that may be X; first-generation
# 15-digit cards are still found in old records.
_SHAPE = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}", re.ASCII)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResidentIdConfig(PartialConfig):
    """`110***********002X`."""

    keep_first: int = 3
    keep_last: int = 4
    min_masked: int = 8


class ResidentIdMask(PartialMask):
    """Mask a resident ID; anything not shaped like one is masked entirely.

    The checksum is not verified: validation belongs to writes, and a bad checksum
    is no reason to show more.
    """

    name = "resident_id"
    config_model = ResidentIdConfig

    def normalize(self, value: str) -> str | None:
        if _SHAPE.fullmatch(value):
            return value
        compact = _WHITESPACE.sub("", value).upper()
        return compact if _SHAPE.fullmatch(compact) else None
