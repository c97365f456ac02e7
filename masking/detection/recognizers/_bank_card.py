"""Payment card numbers: 15-19 digits passing the Luhn check."""

from __future__ import annotations

import re

from stdnum import luhn

from masking.detection.recognizers._base import (
    RegexRecognizer,
    labelled_as,
    labelled_as_other_number,
)
from masking.detection.recognizers._resident_id import looks_like_resident_id

__all__ = ["BankCardRecognizer"]

_NON_DIGIT = re.compile(r"\D")
# Issuer prefixes of the card schemes used in China: UnionPay (62, and the older
# 60/9558 domestic debit ranges), Visa (4), Mastercard (51-55, 2221-2720), JCB (35),
# American Express (34/37, 15 digits).
# "证件号4601…": the label says it is an identity document, whatever Luhn says.
_ID_LABEL = re.compile(
    r"(?:身份证|证件|(?<![a-z])id(?: card)?)\s*(?:号码?|no\.?|number)?\s*[:：]?\s*$",
    re.IGNORECASE,
)
_KNOWN_ISSUER = re.compile(r"62|60|9558|4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|35|3[47]")


class BankCardRecognizer(RegexRecognizer):
    """Compact or in groups of four; a tenth of all digit runs pass Luhn by chance, so
    a number outside the known issuer ranges needs a context word to be reported."""

    ENTITY = "BANK_CARD"
    CONTEXT = (
        "卡号",
        "银行卡",
        "信用卡",
        "储蓄卡",
        "借记卡",
        "银行账号",
        "账号",
        "账户",
        "开户",
        "退款",
        "card",
        "account",
        "visa",
        "mastercard",
        "unionpay",
        "银联",
    )
    PATTERN = re.compile(
        r"(?<![0-9A-Za-z])(?:\d{15,19}|\d{4}(?:(?P<sep>[ -])\d{4}){2}(?P=sep)\d{3,4}"
        r"(?:(?P=sep)\d{1,3})?)(?![0-9A-Za-z])"
    )

    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        digits = _NON_DIGIT.sub("", text[start:end])
        if not 15 <= len(digits) <= 19 or not luhn.is_valid(digits):
            return None
        # An 18-digit resident ID passes Luhn one time in ten; it is an ID, and so is a
        # mistyped one (known area, real birth date, wrong check digit).
        if looks_like_resident_id(digits):
            return None
        if labelled_as_other_number(text, start) or labelled_as(_ID_LABEL, text, start):
            return None
        return 0.55 if _KNOWN_ISSUER.match(digits) else 0.3
