"""Mainland mobile and landline numbers, validated by phonenumbers (region CN)."""

from __future__ import annotations

import re

from phonenumbers import PhoneMetadata, PhoneNumberDesc, PhoneNumberType

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
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_FIXED_TYPES = frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class _Desc:
    """One number type of phonenumbers' CN metadata, its pattern compiled once."""

    def __init__(self, desc: PhoneNumberDesc | None) -> None:
        pattern = desc.national_number_pattern if desc is not None else None
        self.pattern = re.compile(pattern) if pattern else None
        self.lengths = frozenset(desc.possible_length or ()) if desc is not None else frozenset()

    def matches(self, national: str) -> bool:
        return (
            self.pattern is not None
            and len(national) in self.lengths
            and self.pattern.fullmatch(national) is not None
        )


_CN = PhoneMetadata.metadata_for_region("CN")
_GENERAL = _Desc(_CN.general_desc if _CN else None)
_MOBILE = _Desc(_CN.mobile if _CN else None)
_FIXED = _Desc(_CN.fixed_line if _CN else None)
# Types phonenumbers tests before fixed line and mobile; a number matching one of them
# is that type (premium rate, toll free...), not a phone of a person.
_OTHER = tuple(
    _Desc(getattr(_CN, name, None))
    for name in (
        "premium_rate",
        "toll_free",
        "shared_cost",
        "voip",
        "personal_number",
        "pager",
        "uan",
        "voicemail",
    )
)
_SAME_PATTERN = bool(_CN and _CN.same_mobile_and_fixed_line_pattern)


def _cn_number_type(national: str) -> int | None:
    """phonenumbers' `number_type` for a CN national number (mobile 1..., landline 0...),
    None where it is not valid for CN.

    The same decision as `phonenumbers.number_type` on a parsed number, in the same
    order, over phonenumbers' own CN metadata; done here with the patterns compiled
    once because `parse` plus `number_type` costs several times as much.
    """
    national = national.removeprefix("0")  # the trunk prefix is not part of it
    if not _GENERAL.matches(national) or any(desc.matches(national) for desc in _OTHER):
        return None
    if _FIXED.matches(national):
        if _SAME_PATTERN or _MOBILE.matches(national):
            return int(PhoneNumberType.FIXED_LINE_OR_MOBILE)
        return int(PhoneNumberType.FIXED_LINE)
    if not _SAME_PATTERN and _MOBILE.matches(national):
        return int(PhoneNumberType.MOBILE)
    return None


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
