"""Calendar dates and instants."""

from __future__ import annotations

import datetime as dt
import re

from policies.formats._common import require_str
from policies.formats._errors import FieldInvalid

# China has one time zone and no daylight saving, so a fixed offset is exact and
# needs no tz database. "Today" is China's today: a child born in Beijing just after
# midnight must be recordable before UTC reaches the same date.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
EARLIEST_DATE = dt.date(1900, 1, 1)

# `date.fromisoformat` also takes `20240101` and week dates; the contract is the
# extended calendar form only.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def today_in_china() -> dt.date:
    """The current calendar date in China Standard Time."""
    return dt.datetime.now(CHINA_TZ).date()


def is_plausible_past_date(day: dt.date) -> bool:
    """Whether `day` lies between 1900-01-01 and today (China) inclusive."""
    return EARLIEST_DATE <= day <= today_in_china()


def parse_iso_date(value: object) -> dt.date:
    """Parse `YYYY-MM-DD` into a date, or fail with `invalid_date`."""
    text = require_str(value)
    if _ISO_DATE.fullmatch(text) is None:
        raise FieldInvalid("invalid_date")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        # The library message quotes the input; drop it with the context.
        raise FieldInvalid("invalid_date") from None


def validate_date(value: object) -> str:
    """A past calendar date as `YYYY-MM-DD`, from 1900-01-01 up to today."""
    day = parse_iso_date(value)
    if not is_plausible_past_date(day):
        raise FieldInvalid("invalid_date")
    return day.isoformat()


def validate_datetime(value: object) -> str:
    """An ISO 8601 instant with a UTC offset, returned as ISO 8601 in UTC."""
    text = require_str(value)
    # fromisoformat is lenient about the digits it accepts; keep input to ASCII.
    if not text.isascii():
        raise FieldInvalid("invalid_datetime")
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FieldInvalid("invalid_datetime") from None
    # A local time without an offset is ambiguous across the gateway's callers.
    if instant.utcoffset() is None:
        raise FieldInvalid("invalid_datetime")
    try:
        in_utc = instant.astimezone(dt.UTC)
    except OverflowError:
        # e.g. 0001-01-01T00:00+01:00 has no UTC representation in `datetime`.
        raise FieldInvalid("invalid_datetime") from None
    return in_utc.isoformat()
