"""Passports and travel permits: formats without check digits, so context matters.

A bare "E12345678" is as likely a part or batch number as a passport, so these
patterns score below the reporting threshold and need a context word nearby
("护照", "通行证", "passport"...).
"""

from __future__ import annotations

import re

from masking.detection.recognizers._base import RegexRecognizer, labelled_as_other_number

__all__ = ["ExitEntryPermitRecognizer", "HkMacauPermitRecognizer", "PassportRecognizer"]

_BASE_SCORE = 0.4
_LETTER = "A-HJ-NP-Z"  # document serials skip I and O


class _DocumentRecognizer(RegexRecognizer):
    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        return None if labelled_as_other_number(text, start) else _BASE_SCORE


class PassportRecognizer(_DocumentRecognizer):
    """Ordinary e-passports E + 8 digits or E + letter + 7 digits, older G + 8 digits;
    diplomatic, service and public-affairs passports DE/SE/PE + 7 digits."""

    ENTITY = "CN_PASSPORT"
    CONTEXT = ("护照", "passport", "出国", "签证", "visa")
    PATTERN = re.compile(
        rf"(?<![0-9A-Za-z])(?:E\d{{8}}|E[{_LETTER}]\d{{7}}|G\d{{8}}|[DSP]E\d{{7}})(?![0-9A-Za-z])"
    )


class HkMacauPermitRecognizer(_DocumentRecognizer):
    """Mainland Travel Permit for Hong Kong and Macao Residents (回乡证): H (Hong
    Kong) or M (Macao) + 8 digits, or + 10 digits on older cards."""

    ENTITY = "CN_HK_MACAU_PERMIT"
    CONTEXT = (
        "回乡证",
        "来往内地通行证",
        "港澳居民",
        "通行证",
        "香港居民",
        "澳门居民",
        "return",
        "permit",
    )
    PATTERN = re.compile(r"(?<![0-9A-Za-z])[HM]\d{8}(?:\d{2})?(?![0-9A-Za-z])")


class ExitEntryPermitRecognizer(_DocumentRecognizer):
    """Exit-entry permits of mainland residents: to Hong Kong and Macao (往来港澳通行证,
    C + 8 characters) and to Taiwan (往来台湾通行证, L + 8 digits)."""

    ENTITY = "CN_EXIT_ENTRY_PERMIT"
    CONTEXT = (
        "通行证",
        "港澳通行证",
        "往来港澳",
        "往来台湾",
        "赴台",
        "exit",
        "entry",
        "two-way",
        "permit",
    )
    PATTERN = re.compile(rf"(?<![0-9A-Za-z])(?:C[{_LETTER}0-9]\d{{7}}|L\d{{8}})(?![0-9A-Za-z])")
