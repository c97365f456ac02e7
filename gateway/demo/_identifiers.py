"""Synthetic identifiers that pass the same checks the gateway applies on write."""

from __future__ import annotations

import datetime as dt
import random

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric
from ulid import ULID

# Network prefixes of the three carriers and the 17x virtual operators. phonenumbers
# has the final say (some 17x/19x ranges are not all mobile), see mobile_number().
_MOBILE_PREFIXES: tuple[str, ...] = (
    *("134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157"),
    *("158", "159", "172", "178", "182", "183", "184", "187", "188", "195", "198"),
    *("130", "131", "132", "145", "155", "156", "166", "175", "176", "185", "186"),
    *("133", "149", "153", "173", "177", "180", "181", "189", "190", "191", "199"),
    *("170", "171"),
)

# UnionPay issuer prefixes (all start with 62) with the card length they are issued in:
# debit cards are mostly 19 digits, credit cards 16.
_UNIONPAY_BINS: tuple[tuple[str, int], ...] = (
    ("622202", 19),
    ("622848", 19),
    ("621700", 19),
    ("621661", 19),
    ("622262", 19),
    ("623668", 19),
    ("622588", 16),
    ("622609", 16),
    ("625907", 16),
    ("628288", 16),
)

_MAX_DRAWS = 1000


class GenerationError(RuntimeError):
    """The generator could not draw a value that satisfies its own checks."""


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randrange(10**count)).zfill(count)


def mobile_number(rng: random.Random) -> str:
    """An 11-digit mainland mobile number that phonenumbers accepts as a CN mobile."""
    for _ in range(_MAX_DRAWS):
        candidate = rng.choice(_MOBILE_PREFIXES) + _digits(rng, 8)
        parsed = phonenumbers.parse(candidate, "CN")
        if (
            phonenumbers.is_valid_number(parsed)
            and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
        ):
            return candidate
    msg = "no valid CN mobile number drawn; phonenumbers metadata may have changed"
    raise GenerationError(msg)


def resident_id(rng: random.Random, area_code: str, birth_date: dt.date, *, male: bool) -> str:
    """An 18-character GB 11643 resident ID for this birthplace, birth date and sex."""
    # The last digit of the 3-digit sequence code is odd for men and even for women.
    parity = rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    sequence = rng.randrange(100) * 10 + parity
    if sequence == 0:
        sequence = 10  # 000 is not issued
    body = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    # calc_check_digit takes the number *with* a check character and ignores it.
    return body + ric.calc_check_digit(body + "0")


def bank_card(rng: random.Random) -> str:
    """A Luhn-valid UnionPay card number of 16 or 19 digits."""
    bin_, length = rng.choice(_UNIONPAY_BINS)
    body = bin_ + _digits(rng, length - len(bin_) - 1)
    return body + luhn.calc_check_digit(body)


def record_id(prefix: str, at: dt.datetime, rng: random.Random) -> str:
    """``<prefix>_<ULID>`` whose timestamp is ``at``, so ids sort by creation time."""
    millis = int(at.timestamp() * 1000)
    return f"{prefix}_{ULID(millis.to_bytes(6, 'big') + rng.randbytes(10))}"
