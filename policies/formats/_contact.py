"""How to reach a customer: mobile phone, e-mail, postal address."""

from __future__ import annotations

import re

import phonenumbers

from policies.formats._common import check_bounded_text, has_control_chars, require_str
from policies.formats._errors import FieldInvalid

ADDRESS_MAX_CHARS = 200
EMAIL_MAX_CHARS = 254  # RFC 5321 path limit less the angle brackets
_EMAIL_LOCAL_MAX_CHARS = 64
_DOMAIN_LABEL_MAX_CHARS = 63

# phonenumbers is lenient by design: it maps letters to keypad digits, reads
# extensions and folds full-width digits. Only the spellings people type for a
# Chinese mobile get through to it.
_PHONE_SHAPE = re.compile(r"\+?[0-9][0-9 \-]{0,24}")
_CN_COUNTRY_CODE = 86
_CN_MOBILE_DIGITS = 11

# Characters RFC 5322 only allows quoted; nobody's real address needs them.
_EMAIL_FORBIDDEN = frozenset('"(),:;<>[\\]')


def validate_cn_mobile(value: object) -> str:
    """A mainland China mobile number, returned as its 11 national digits."""
    text = require_str(value).strip()
    if _PHONE_SHAPE.fullmatch(text) is None:
        raise FieldInvalid("invalid_phone")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise FieldInvalid("invalid_phone") from None
    national = str(number.national_number)
    if (
        number.country_code != _CN_COUNTRY_CODE
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
        or len(national) != _CN_MOBILE_DIGITS
    ):
        raise FieldInvalid("invalid_phone")
    return national


def _is_domain(domain: str) -> bool:
    labels = domain.split(".")
    # A bare host or a numeric top label (an IP address) cannot receive customer mail.
    if len(labels) < 2 or labels[-1].isdigit():
        return False
    return all(
        0 < len(label) <= _DOMAIN_LABEL_MAX_CHARS
        and not label.startswith("-")
        and not label.endswith("-")
        and all(char.isalnum() or char == "-" for char in label)
        for label in labels
    )


def _is_local_part(local: str) -> bool:
    return (
        0 < len(local) <= _EMAIL_LOCAL_MAX_CHARS
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
    )


def validate_email(value: object) -> str:
    """A pragmatic e-mail address check; the domain is returned lower-cased.

    The local part keeps its case: RFC 5321 lets the receiving host treat it as
    case-sensitive, so folding it could point at someone else's mailbox.
    """
    text = require_str(value).strip()
    if (
        len(text) > EMAIL_MAX_CHARS
        or text.count("@") != 1
        or has_control_chars(text)
        or any(char.isspace() or char in _EMAIL_FORBIDDEN for char in text)
    ):
        raise FieldInvalid("invalid_email")
    local, domain = text.split("@")
    if not _is_local_part(local) or not _is_domain(domain):
        raise FieldInvalid("invalid_email")
    return f"{local}@{domain.lower()}"


def validate_address(value: object) -> str:
    """A postal address of 1 to 200 characters after stripping."""
    return check_bounded_text(value, max_chars=ADDRESS_MAX_CHARS)
