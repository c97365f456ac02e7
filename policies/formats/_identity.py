"""Who a customer is: name and resident identity card number."""

from __future__ import annotations

import datetime as dt
import re

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from policies.formats._common import check_bounded_text, has_control_chars, require_str
from policies.formats._errors import FieldInvalid
from policies.formats._time import is_plausible_past_date

NAME_MAX_CHARS = 64

# ASCII digits only and no inner separators: stdnum would otherwise accept Unicode
# look-alikes and `-` or spaces, and the blind index needs one spelling per number.
_RESIDENT_ID_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")


def validate_person_name(value: object) -> str:
    """A name of 1 to 64 characters after stripping, without control characters."""
    name = check_bounded_text(value, max_chars=NAME_MAX_CHARS)
    if has_control_chars(name):
        raise FieldInvalid("invalid_name")
    return name


def _parse_resident_id(value: object) -> tuple[str, dt.date]:
    number = require_str(value).strip()
    if _RESIDENT_ID_SHAPE.fullmatch(number) is None:
        raise FieldInvalid("invalid_id_number")
    number = number.upper()
    # Not ric.validate: it also requires the area code to have existed in the birth
    # year, but the code is that of the household registration when the card was
    # issued, so everyone older than their district (Pudong 1993, all of Chongqing
    # 1997) would be refused, as would residence permits of Hong Kong, Macao and
    # Taiwan residents (810000/820000/830000).
    if number[-1] != ric.calc_check_digit(number):
        raise FieldInvalid("invalid_id_number")
    try:
        birth_date = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise FieldInvalid("invalid_id_number") from None
    # stdnum accepts any calendar date; a living customer was born after 1900 and
    # not after today, which also keeps it comparable with the `date` format.
    if not is_plausible_past_date(birth_date):
        raise FieldInvalid("invalid_id_number")
    return number, birth_date


def validate_cn_resident_id(value: object) -> str:
    """An 18-character resident ID number, stripped, with an upper-case `X`."""
    number, _ = _parse_resident_id(value)
    return number


def birth_date_from_resident_id(id_number: str) -> dt.date:
    """The birth date encoded in a resident ID number.

    Raises `FieldInvalid("invalid_id_number")` if the number is not valid.
    """
    _, birth_date = _parse_resident_id(id_number)
    return birth_date
