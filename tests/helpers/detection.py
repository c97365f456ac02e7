"""Valid test numbers computed with the same published algorithms the recognizers
check, and the findings of a detector as (entity type, value) pairs."""

from __future__ import annotations

from stdnum import luhn
from stdnum.cn import ric, uscc

from masking.detection import PiiDetector


def resident_id(body17: str) -> str:
    """`body17` plus its GB 11643 check character."""
    return body17 + ric.calc_check_digit(body17 + "0")


def with_luhn(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def credit_code(body17: str) -> str:
    """`body17` plus its GB 32100 check character."""
    return body17 + uscc.calc_check_digit(body17)


def wrong_last(value: str, alphabet: str = "0123456789") -> str:
    """The same value with a different last character (a failing check digit)."""
    return value[:-1] + next(c for c in alphabet if c != value[-1])


def found(detector: PiiDetector, text: str) -> list[tuple[str, str]]:
    """(entity type, value) of each finding, in order."""
    return [(e.entity_type, text[e.start : e.end]) for e in detector.detect(text)]


def values_of(detector: PiiDetector, text: str, entity_type: str) -> list[str]:
    return [value for kind, value in found(detector, text) if kind == entity_type]
