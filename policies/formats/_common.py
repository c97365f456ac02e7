"""Checks shared by the string validators."""

from __future__ import annotations

import unicodedata

from policies.formats._errors import FieldInvalid

# Cc/Cf/Cs plus line and paragraph separators: invisible or layout-breaking
# characters (including bidi overrides) that let a stored value display as something
# else. Private-use (Co) and unassigned (Cn) code points are allowed on purpose:
# rare Chinese name characters live in PUA (GB 18030 legacy) or in CJK extensions
# newer than this Python's Unicode database.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def require_str(value: object) -> str:
    """Return `value` if it is a string, else fail with `invalid_type`."""
    if not isinstance(value, str):
        raise FieldInvalid("invalid_type")
    return value


def has_control_chars(text: str) -> bool:
    """Whether `text` holds a character no human-entered value should contain."""
    return any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in text)


def check_bounded_text(value: object, *, max_chars: int) -> str:
    """Stripped, non-empty string of at most `max_chars` code points."""
    text = require_str(value).strip()
    if not text:
        raise FieldInvalid("required")
    if len(text) > max_chars:
        raise FieldInvalid("too_long")
    return text
