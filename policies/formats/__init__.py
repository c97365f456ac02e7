"""Write-side validators for the formats named in the data catalog.

`validate(format_name, value, required=...)` returns the normalized value to store
or raises `FieldInvalid(reason)`; the reason is a stable machine word and never
contains the value.
"""

from __future__ import annotations

from policies.formats._choices import CHANNELS, REGIONS, TIERS
from policies.formats._consistency import check_consistency
from policies.formats._contact import ADDRESS_MAX_CHARS, EMAIL_MAX_CHARS
from policies.formats._errors import REASONS, FieldInvalid, Reason, UnknownFormatError
from policies.formats._identity import NAME_MAX_CHARS, birth_date_from_resident_id
from policies.formats._registry import FORMATS, VALIDATORS, Validator, validate
from policies.formats._text import TEXT_MAX_CHARS
from policies.formats._time import today_in_china

__all__ = [
    "ADDRESS_MAX_CHARS",
    "CHANNELS",
    "EMAIL_MAX_CHARS",
    "FORMATS",
    "NAME_MAX_CHARS",
    "REASONS",
    "REGIONS",
    "TEXT_MAX_CHARS",
    "TIERS",
    "VALIDATORS",
    "FieldInvalid",
    "Reason",
    "UnknownFormatError",
    "Validator",
    "birth_date_from_resident_id",
    "check_consistency",
    "today_in_china",
    "validate",
]
