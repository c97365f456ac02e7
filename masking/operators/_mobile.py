"""Mainland China mobile numbers: first 3 + last 4 of the 11 national digits."""

from __future__ import annotations

import dataclasses
import re

from masking.operators._partial import PartialConfig, PartialMask

__all__ = ["MobileConfig", "MobileMask"]

_SEPARATORS = re.compile(r"[\s\-().]")
_COUNTRY_PREFIX = re.compile(r"^(?:\+86|0086)")
_NATIONAL_LENGTH = 11


@dataclasses.dataclass(frozen=True, kw_only=True)
class MobileConfig(PartialConfig):
    """`138****5678`; numbers with under 4 digits to hide are hidden entirely."""

    keep_first: int = 3
    keep_last: int = 4
    min_masked: int = 4


class MobileMask(PartialMask):
    """Mask a phone number given as digits, with separators or a +86 / 0086 prefix."""

    name = "mobile"
    config_model = MobileConfig

    def normalize(self, value: str) -> str | None:
        if value.isascii() and value.isdigit():
            # The stored form; skip the separator and prefix handling below.
            return value
        digits = _COUNTRY_PREFIX.sub("", _SEPARATORS.sub("", value))
        if len(digits) == _NATIONAL_LENGTH + 2 and digits.startswith("86"):
            # "86 138..." written without the plus sign.
            digits = digits[2:]
        if not (digits.isascii() and digits.isdigit()):
            return None
        return digits
