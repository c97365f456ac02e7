"""Bank card numbers: first 6 (the issuer BIN) + last 4, as PCI DSS allows."""

from __future__ import annotations

import dataclasses
import re

from masking.operators._partial import PartialConfig, PartialMask

__all__ = ["BankCardConfig", "BankCardMask"]

_SEPARATORS = re.compile(r"[\s\-]")


@dataclasses.dataclass(frozen=True, kw_only=True)
class BankCardConfig(PartialConfig):
    """`622588******5676`; numbers with under 6 digits to hide are hidden entirely."""

    keep_first: int = 6
    keep_last: int = 4
    min_masked: int = 6


class BankCardMask(PartialMask):
    """Mask a card number written with or without spaces or hyphens."""

    name = "bank_card"
    config_model = BankCardConfig

    def normalize(self, value: str) -> str | None:
        if value.isascii() and value.isdigit():
            return value
        digits = _SEPARATORS.sub("", value)
        return digits if digits.isascii() and digits.isdigit() else None
