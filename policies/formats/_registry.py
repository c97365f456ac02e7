"""The registry from catalog format names to validators, and its entry point."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from policies.formats._choices import (
    validate_channel,
    validate_rating,
    validate_region,
    validate_tier,
)
from policies.formats._contact import validate_address, validate_cn_mobile, validate_email
from policies.formats._errors import FieldInvalid, UnknownFormatError
from policies.formats._financial import validate_amount, validate_bank_card
from policies.formats._identity import validate_cn_resident_id, validate_person_name
from policies.formats._ids import validate_customer_id, validate_record_id
from policies.formats._text import validate_text
from policies.formats._time import validate_date, validate_datetime

# Takes any decoded JSON value; returns the normalized value to store or raises
# FieldInvalid. Never called with None: `validate` decides what null means.
Validator = Callable[[object], str | int]

# Read-only so no import-time side effect elsewhere can swap a validator.
VALIDATORS: Mapping[str, Validator] = MappingProxyType(
    {
        "customer_id": validate_customer_id,
        "record_id": validate_record_id,
        "person_name": validate_person_name,
        "cn_resident_id": validate_cn_resident_id,
        "cn_mobile": validate_cn_mobile,
        "email": validate_email,
        "address": validate_address,
        "bank_card": validate_bank_card,
        "date": validate_date,
        "datetime": validate_datetime,
        "region": validate_region,
        "tier": validate_tier,
        "channel": validate_channel,
        "text": validate_text,
        "amount": validate_amount,
        "rating": validate_rating,
    }
)

FORMATS: frozenset[str] = frozenset(VALIDATORS)


def validate(format_name: str, value: object, *, required: bool = False) -> str | int | None:
    """Validate one field value and return what to store.

    Null on an optional field returns None, meaning "clear the field"; on a
    required field it fails with `required`. Raises `UnknownFormatError` for a
    format the registry does not know, since the catalog and code disagree.
    """
    try:
        validator = VALIDATORS[format_name]
    except KeyError:
        raise UnknownFormatError(format_name) from None
    if value is None:
        if required:
            raise FieldInvalid("required")
        return None
    return validator(value)
