"""Mainland resident identity card numbers (GB 11643, 18 characters)."""

from __future__ import annotations

import re

from stdnum.cn import ric

from masking.detection.recognizers._base import RegexRecognizer, labelled_as_other_number

__all__ = ["ResidentIdRecognizer"]


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
        "id card",
        "identity",
        "id number",
        "id no",
        "resident id",
    )
    PATTERN = re.compile(
        r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
        r"\d{3}[0-9Xx](?![0-9A-Za-z])"
    )

    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        if not ric.is_valid(text[start:end].upper()) or labelled_as_other_number(text, start):
            return None
        return 0.9
