"""Free text such as notes and interaction summaries."""

from __future__ import annotations

from policies.formats._common import require_str
from policies.formats._errors import FieldInvalid

TEXT_MAX_CHARS = 4000


def validate_text(value: object) -> str:
    """Up to 4000 characters, returned as given; empty is allowed.

    Not stripped: whitespace and line breaks in notes can carry meaning, and PII
    in the text is the scanner's business, not the validator's.
    """
    text = require_str(value)
    if len(text) > TEXT_MAX_CHARS:
        raise FieldInvalid("too_long")
    return text
