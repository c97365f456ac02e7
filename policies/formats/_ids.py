"""Wardgate's own record identifiers: a type prefix and a ULID."""

from __future__ import annotations

import re

from policies.formats._common import require_str
from policies.formats._errors import FieldInvalid

# Crockford base32 without I, L, O, U. The first character is at most 7 because a
# ULID is 128 bits and 26 base32 characters hold 130. Upper case only: the gateway
# generates these, so any other spelling is not one of ours.
_ULID = r"[0-7][0-9A-HJKMNP-TV-Z]{25}"
_CUSTOMER_ID = re.compile(rf"cus_{_ULID}")
_RECORD_ID = re.compile(rf"(?:int|ord)_{_ULID}")


def _check_id(value: object, pattern: re.Pattern[str]) -> str:
    text = require_str(value)
    # fullmatch, not `$`: `$` also matches before a trailing newline.
    if pattern.fullmatch(text) is None:
        raise FieldInvalid("invalid_id")
    return text


def validate_customer_id(value: object) -> str:
    """`cus_` followed by a ULID; returned unchanged."""
    return _check_id(value, _CUSTOMER_ID)


def validate_record_id(value: object) -> str:
    """`int_` (interaction) or `ord_` (order) followed by a ULID; returned unchanged."""
    return _check_id(value, _RECORD_ID)
