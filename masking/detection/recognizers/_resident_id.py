"""Mainland resident identity card numbers (GB 11643, 18 characters)."""

from __future__ import annotations

import datetime as dt
import functools
import re

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from masking.detection.recognizers._base import RegexRecognizer, labelled_as_other_number

__all__ = ["ResidentIdRecognizer", "is_valid_resident_id", "known_area", "looks_like_resident_id"]

# Residence permits for Hong Kong, Macao and Taiwan residents use these area codes.
_RESIDENCE_PERMIT_AREAS = frozenset({"810000", "820000", "830000"})
_EARLIEST_BIRTH = dt.date(1900, 1, 1)
_ID_SHAPE = re.compile(r"\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]")


def is_valid_resident_id(number: str, *, today: dt.date | None = None) -> bool:
    """GB 11643 check character, a real birth date (1900 to today), and an area code
    that GB/T 2260 lists, in any year; all read with python-stdnum.

    Not `ric.is_valid`: it also demands that the area code existed in the birth year,
    but the code is that of the household registration when the card was issued, so
    everyone older than their district (Pudong 1993, all of Chongqing 1997) would be
    missed, as would residence permits of Hong Kong, Macao and Taiwan residents
    (810000/820000/830000). The gateway's write validation accepts them the same way.
    """
    number = number.upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if ric.calc_check_digit(number) != number[17]:
        return False
    return _plausible_birth_date(number, today) and (
        known_area(number[:6]) or number[:6] in _RESIDENCE_PERMIT_AREAS
    )


def looks_like_resident_id(number: str) -> bool:
    """18 characters with a known area code and a date-shaped birth date (19xx/20xx,
    month 01-12, day 01-31), whatever the check character and even if the day does
    not exist: a mistyped ID number, which must not be reported as something else."""
    if len(number) != 18 or _ID_SHAPE.fullmatch(number) is None:
        return False
    return known_area(number[:6]) or number[:6] in _RESIDENCE_PERMIT_AREAS


@functools.lru_cache(maxsize=8192)
def known_area(code: str) -> bool:
    """A GB/T 2260 administrative division code, at any level and in any year."""
    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


def _plausible_birth_date(number: str, today: dt.date | None) -> bool:
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        return False
    return _EARLIEST_BIRTH <= born <= (today or dt.datetime.now(dt.UTC).date())


class ResidentIdRecognizer(RegexRecognizer):
    """6-digit area, birth date, 3-digit sequence, check character (0-9 or X).

    See `is_valid_resident_id` for what is checked. The 15-digit cards issued before
    1999 carry no check digit and are not looked for.
    """

    ENTITY = "CN_RESIDENT_ID"
    CONTEXT = (
        "身份证",
        "证件",
        "身份号",
        "公民身份",
        "id",
        "identity",
        "resident",
    )
    PATTERN = re.compile(
        r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
        r"\d{3}[0-9Xx](?![0-9A-Za-z])"
    )

    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        if not is_valid_resident_id(text[start:end]) or labelled_as_other_number(text, start):
            return None
        return 0.9
