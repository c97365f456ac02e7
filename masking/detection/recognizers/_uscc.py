"""Unified Social Credit Codes of organisations (GB 32100-2015, 18 characters)."""

from __future__ import annotations

import re

from stdnum.cn import uscc

from masking.detection.recognizers._base import RegexRecognizer, labelled_as_other_number
from masking.detection.recognizers._resident_id import known_area

__all__ = ["UsccRecognizer", "is_valid_uscc", "plausible_uscc"]

# GB 32100 leaves out I, O, Z, S and V so they are not misread.
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def is_valid_uscc(code: str) -> bool:
    """The GB 32100 check character of an 18-character code.

    python-stdnum's `uscc.validate` requires the first 8 characters to be digits, but
    the registration authority code (first character) is also A (military reform
    office), N (agriculture) or Y (other authorities); its `calc_check_digit` handles
    any character of the alphabet, so we check the format ourselves and use that.
    """
    if len(code) != 18 or any(c not in _ALPHABET for c in code):
        return False
    if code[0] not in "123456789ANY" or not code[1:8].isdigit():
        return False
    return bool(uscc.calc_check_digit(code) == code[17])


def plausible_uscc(code: str) -> bool:
    """`is_valid_uscc`, and characters 3-8 name a GB/T 2260 administrative division
    (the registering authority's), as every issued code's do."""
    return is_valid_uscc(code) and known_area(code[2:8])


def has_valid_org_code(code: str) -> bool:
    """Characters 9-17 are the GB 11714 organisation code with its own check character."""
    body, check = code[8:16], code[16]
    if not body.isalnum():
        return False
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    expected = (11 - total % 11) % 11
    return check == ("X" if expected == 10 else str(expected))


class UsccRecognizer(RegexRecognizer):
    """A code whose organisation-code part fails its own check is kept only in
    context: some codes issued to individual businesses do not follow GB 11714."""

    ENTITY = "CN_USCC"
    CONTEXT = (
        "信用代码",
        "统一社会信用",
        "社会信用",
        "营业执照",
        "税号",
        "纳税人识别号",
        "注册号",
        "企业",
        "公司",
        "credit",
        "uscc",
        "tax",
        "license",
        "registration",
    )
    PATTERN = re.compile(r"(?<![0-9A-Za-z])[1-9ANY]\d{7}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])")

    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        code = text[start:end]
        if not plausible_uscc(code) or labelled_as_other_number(text, start):
            return None
        return 0.85 if has_valid_org_code(code) else 0.3
