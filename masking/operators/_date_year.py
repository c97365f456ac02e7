"""Dates: keep the year, mask month, day and anything finer."""

from __future__ import annotations

import dataclasses
import re

from masking.errors import InvalidOperatorConfigError
from masking.operators._base import MaskingOperator
from masking.operators._config import MaskConfig

__all__ = ["DateYearConfig", "DateYearMask"]

_COMPACT = re.compile(r"[0-9]{8}")
# Years 1000-2999: "0517" is a month and day, not a year.
_YEAR = re.compile(r"(?<![0-9])[12][0-9]{3}(?![0-9])")
# Every run of letters or digits other than the year: month names ("May") would
# give the month away as surely as "05". Chinese date units stay for readability.
_PART = re.compile(r"[^\W_年月日时分秒]+")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DateYearConfig(MaskConfig):
    """`1990-**-**`; `redaction` replaces values with no four-digit year."""

    mask: str = "**"
    redaction: str = "****"

    def check(self) -> None:
        if not self.mask or not self.redaction:
            msg = "mask and redaction must not be empty"
            raise InvalidOperatorConfigError(msg)


class DateYearMask(MaskingOperator[DateYearConfig]):
    """Keep the first standalone four-digit year as the year."""

    name = "date_year"
    config_model = DateYearConfig

    def mask(self, value: str, config: DateYearConfig) -> str:
        if not value:
            return value
        text = value.strip()
        if _COMPACT.fullmatch(text):
            return text[:4] + config.mask * 2
        year = _YEAR.search(text)
        if year is None:
            return config.redaction
        before = _PART.sub(config.mask, text[: year.start()])
        after = _PART.sub(config.mask, text[year.end() :])
        return before + year[0] + after
