"""Synthetic identifiers for write tests, made valid with the same libraries the gateway uses."""

from __future__ import annotations

import datetime as dt
import itertools

from stdnum import luhn
from stdnum.cn import ric

_serial = itertools.count(101)


def resident_id(birth: dt.date, area: str = "330106") -> str:
    """A GB 11643 number for a Hangzhou Xihu district registration (area code 330106)."""
    body = f"{area}{birth:%Y%m%d}{next(_serial) % 1000:03d}"
    # calc_check_digit expects the full number and ignores its last character.
    return body + ric.calc_check_digit(body + "0")


def bank_card(prefix: str = "622588") -> str:
    body = f"{prefix}{next(_serial):09d}"
    return body + luhn.calc_check_digit(body)
