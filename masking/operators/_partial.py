"""Keep a few characters at each end and mask the middle: the shape of most ID masks."""

from __future__ import annotations

import dataclasses

from masking.errors import InvalidOperatorConfigError
from masking.operators._base import MaskingOperator
from masking.operators._config import MaskConfig

__all__ = ["PartialConfig", "PartialMask", "keep_ends"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PartialConfig(MaskConfig):
    """Which characters stay visible.

    `min_masked` guards short values: when fewer than `min_masked` characters would be
    hidden, everything is hidden, so a 5-character value never shows 4 of them.
    """

    keep_first: int = 0
    keep_last: int = 4
    mask_char: str = "*"
    min_masked: int = 1

    def check(self) -> None:
        if self.keep_first < 0 or self.keep_last < 0:
            msg = "keep_first and keep_last must be >= 0"
            raise InvalidOperatorConfigError(msg)
        if len(self.mask_char) != 1:
            msg = "mask_char must be exactly one character"
            raise InvalidOperatorConfigError(msg)
        if self.min_masked < 1:
            msg = "min_masked must be >= 1"
            raise InvalidOperatorConfigError(msg)


def keep_ends(value: str, config: PartialConfig) -> str:
    """Mask `value` per `config` with no normalization (the rule all partial masks share)."""
    length = len(value)
    hidden = length - config.keep_first - config.keep_last
    if hidden < config.min_masked:
        return config.mask_char * length
    return (
        value[: config.keep_first] + config.mask_char * hidden + value[length - config.keep_last :]
    )


class PartialMask(MaskingOperator[PartialConfig]):
    """Generic partial mask; subclasses set other defaults and a `normalize` step."""

    name = "partial"
    config_model = PartialConfig

    def normalize(self, value: str) -> str | None:
        """Return the canonical form to mask, or None if `value` does not fit the format.

        A value that does not fit is masked entirely: keeping its ends could show
        anything, since nothing is known about where the identifier sits in it.
        """
        return value

    def mask(self, value: str, config: PartialConfig) -> str:
        canonical = self.normalize(value)
        if canonical is None:
            return config.mask_char * len(value)
        return keep_ends(canonical, config)
