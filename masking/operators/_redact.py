"""Replace the whole value with a fixed string."""

from __future__ import annotations

import dataclasses

from masking.operators._base import MaskingOperator
from masking.operators._config import MaskConfig

__all__ = ["RedactConfig", "RedactMask"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RedactConfig(MaskConfig):
    """The fixed replacement; its length says nothing about the value's."""

    replacement: str = "****"


class RedactMask(MaskingOperator[RedactConfig]):
    """The fallback for categories with no specific mask."""

    name = "redact"
    config_model = RedactConfig

    def mask(self, value: str, config: RedactConfig) -> str:
        return config.replacement
