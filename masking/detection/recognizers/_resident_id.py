"""Mainland resident identity card numbers (GB 11643, 18 characters)."""

from __future__ import annotations

import functools
import re

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from masking.detection.recognizers._base import RegexRecognizer, labelled_as_other_number

__all__ = ["ResidentIdRecognizer", "is_valid_resident_id", "known_area", "looks_like_resident_id"]


def is_valid_resident_id(number: str) -> bool:
    """`stdnum.cn.ric.is_valid`, with the birth-place lookup cached per area and year.

    stdnum checks the check character, then the birth date, then that the area code
    was in use in the birth year; the last step is a table search that costs more
    than the rest, and its answer depends only on the first ten characters.
    """
    number = number.upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if ric.calc_check_digit(number) != number[17]:
        return False
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return _known_birth_place(number[:10])


def looks_like_resident_id(number: str) -> bool:
    """18 characters with a known area code and a real birth date, whatever the check
    character: a mistyped ID number, which must not be reported as something else."""
    if len(number) != 18 or not number[:17].isdigit() or not known_area(number[:6]):
        return False
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def known_area(code: str) -> bool:
    """A GB/T 2260 administrative division code, at any level and in any year."""
    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


@functools.lru_cache(maxsize=8192)
def _known_birth_place(area_and_year: str) -> bool:
    try:
        ric.get_birth_place(area_and_year + "01010000")
    # stdnum 2.x raises KeyError for a code its table knows as a province or city but
    # not as a county (e.g. 110000): not a birthplace, and never a crash on input.
    except (ValidationError, KeyError):
        return False
    return True


class ResidentIdRecognizer(RegexRecognizer):
    """6-digit area, birth date, 3-digit sequence, check character (0-9 or X).

    python-stdnum checks the ISO 7064 MOD 11-2 check character, that the birth date
    exists, and that the area code is one GB/T 2260 lists. The 15-digit cards issued
    before 1999 carry no check digit and are not looked for.
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
