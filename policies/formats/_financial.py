"""Money: bank card numbers and amounts."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from stdnum import exceptions as stdnum_errors
from stdnum import luhn

from policies.formats._common import require_str
from policies.formats._errors import FieldInvalid

_MAX_WHOLE_AMOUNT = 1_000_000_000
MAX_AMOUNT = Decimal(_MAX_WHOLE_AMOUNT)
_CENT = Decimal("0.01")

_CARD_DIGITS = re.compile(r"[0-9]{12,19}")
_CARD_SEPARATORS = str.maketrans("", "", " -")

# No sign, exponent, NaN or Infinity, which `Decimal()` would all accept; ten integer
# digits is enough for the maximum and keeps huge inputs away from the parser.
_AMOUNT_TEXT = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?")


def validate_bank_card(value: object) -> str:
    """A 12 to 19 digit card number with a valid Luhn digit, returned as digits only.

    Given as a string only: a JSON number would lose digits past 2**53 in many
    clients, so card numbers are identifiers, not numbers.
    """
    digits = require_str(value).translate(_CARD_SEPARATORS)
    if _CARD_DIGITS.fullmatch(digits) is None:
        raise FieldInvalid("invalid_bank_card")
    try:
        luhn.validate(digits)
    except stdnum_errors.ValidationError:
        raise FieldInvalid("invalid_bank_card") from None
    return digits


def _amount_from_json(value: object) -> Decimal:
    # bool is an int subclass, but `true` is not an amount.
    if isinstance(value, bool):
        raise FieldInvalid("invalid_type")
    if isinstance(value, int):
        # Compare int to int: turning a huge int into a Decimal is slow and pointless.
        if not 0 <= value <= _MAX_WHOLE_AMOUNT:
            raise FieldInvalid("invalid_amount")
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FieldInvalid("invalid_amount")
        # repr is the shortest text that round-trips, so 0.1 reads as 0.1 rather
        # than its binary expansion, and 0.1 + 0.2 is rightly rejected.
        return Decimal(repr(value))
    text = require_str(value)
    if _AMOUNT_TEXT.fullmatch(text) is None:
        raise FieldInvalid("invalid_amount")
    return Decimal(text)


def validate_amount(value: object) -> str:
    """A non-negative amount of at most 1,000,000,000 with at most two decimals.

    Returned as text with exactly two decimals (`"128.50"`), so no float ever
    stands for money downstream.
    """
    amount = _amount_from_json(value)
    if not 0 <= amount <= MAX_AMOUNT or amount != amount.quantize(_CENT):
        raise FieldInvalid("invalid_amount")
    # copy_abs turns a float -0.0 into 0 so it never prints as "-0.00".
    return f"{amount.copy_abs().quantize(_CENT):f}"
