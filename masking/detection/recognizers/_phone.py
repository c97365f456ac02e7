"""Mainland mobile and landline numbers, validated by phonenumbers (region CN)."""

from __future__ import annotations

import re

import phonenumbers

from masking.detection.recognizers._base import RegexRecognizer, labelled_as_other_number

__all__ = ["LandlineRecognizer", "MobileRecognizer"]

_PHONE_CONTEXT = (
    "手机",
    "电话",
    "联系方式",
    "号码",
    "致电",
    "来电",
    "回电",
    "微信",
    "phone",
    "mobile",
    "cell",
    "tel",
    "call",
    "contact",
)
_NON_DIGIT = re.compile(r"\D")
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
_FIXED_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def _cn_number_type(national: str) -> int | None:
    """phonenumbers' type of a national CN number (mobile 1..., landline 0...), or None
    if phonenumbers does not hold it valid for region CN.

    The number is built directly rather than through `phonenumbers.parse`, which costs
    twice as much and only strips the trunk prefix 0 here (the callers pass digits).
    """
    if not national.isdigit() or national.startswith("00"):
        return None
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(national))
    if not phonenumbers.is_valid_number_for_region(number, "CN"):
        return None
    return int(phonenumbers.number_type(number))


def _national_digits(value: str) -> str:
    digits = _NON_DIGIT.sub("", value)
    if value.lstrip().startswith("+") and digits.startswith("86"):
        return digits[2:]
    if digits.startswith("0086"):
        return digits[4:]
    if len(digits) == 13 and digits.startswith("86"):  # "86 139 1234 5678"
        return digits[2:]
    return digits


class MobileRecognizer(RegexRecognizer):
    """11 digits starting 13-19, optionally `+86`/`0086` and grouped 3-4-4."""

    ENTITY = "CN_MOBILE"
    CONTEXT = _PHONE_CONTEXT
    PATTERN = re.compile(
        r"(?<![0-9A-Za-z+])(?:(?:\+|00)86[ -]?)?1[3-9]\d(?:\d{8}|[ -]\d{4}[ -]\d{4})(?![0-9A-Za-z])"
    )

    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        if _cn_number_type(_national_digits(text[start:end])) not in _MOBILE_TYPES:
            return None
        if labelled_as_other_number(text, start):
            return None
        return 0.85


class LandlineRecognizer(RegexRecognizer):
    """An area code (0 + 2-3 digits) and a 7-8 digit local number, e.g. 010-12345678.

    Written without a separator (01012345678) it looks like any other digit run, so
    it then needs a context word to be reported.
    """

    ENTITY = "CN_LANDLINE"
    CONTEXT = (*_PHONE_CONTEXT, "座机", "固话", "办公室", "landline", "office", "fax", "传真")
    PATTERN = re.compile(
        r"(?<![0-9A-Za-z+])(?:(?:\+|00)86[ -]?)?"
        r"(?:(?P<compact>0[1-9]\d{1,2})|0[1-9]\d{1,2}[ -]|[(（]0[1-9]\d{1,2}[)）] ?)"
        r"[2-9]\d{6,7}(?![0-9A-Za-z])"
    )

    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        national = _national_digits(text[start:end])
        if not national.startswith("0"):
            national = "0" + national
        if _cn_number_type(national) not in _FIXED_TYPES:
            return None
        if labelled_as_other_number(text, start):
            return None
        return 0.4 if match["compact"] else 0.6
