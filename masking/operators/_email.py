"""E-mail addresses: first character of the local part + `***` + `@domain`."""

from __future__ import annotations

import dataclasses
import re

from masking.errors import InvalidOperatorConfigError
from masking.operators._base import MaskingOperator
from masking.operators._config import MaskConfig

__all__ = ["EmailConfig", "EmailMask"]

# No whitespace on either side and a non-empty domain: anything else is not an
# address, and showing "the part after @" of arbitrary text could show anything.
_ADDRESS = re.compile(r"(?P<local>[^\s@]+)@(?P<domain>[^\s@]+)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class EmailConfig(MaskConfig):
    """`z***@example.com`; `redaction` replaces values that are not an address."""

    keep_first: int = 1
    mask: str = "***"
    redaction: str = "****"

    def check(self) -> None:
        if self.keep_first < 0:
            msg = "keep_first must be >= 0"
            raise InvalidOperatorConfigError(msg)
        if not self.mask or not self.redaction:
            msg = "mask and redaction must not be empty"
            raise InvalidOperatorConfigError(msg)


class EmailMask(MaskingOperator[EmailConfig]):
    """Mask the local part, keep the domain."""

    name = "email"
    config_model = EmailConfig

    def mask(self, value: str, config: EmailConfig) -> str:
        if not value:
            return value
        match = _ADDRESS.fullmatch(value.strip())
        if match is None:
            return config.redaction
        local = match["local"]
        # A local part no longer than what we keep would be shown whole.
        kept = local[: config.keep_first] if len(local) > config.keep_first else ""
        return f"{kept}{config.mask}@{match['domain']}"
