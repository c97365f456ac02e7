"""The two failures of the format validators."""

from __future__ import annotations

from typing import Literal, get_args

# Stable machine words: the gateway puts them in `errors: [{field, reason}]`, so
# changing one is an API change.
Reason = Literal[
    "required",
    "invalid_type",
    "too_long",
    "invalid_id",
    "invalid_name",
    "invalid_id_number",
    "invalid_phone",
    "invalid_email",
    "invalid_bank_card",
    "invalid_date",
    "invalid_datetime",
    "invalid_choice",
    "invalid_amount",
    "invalid_rating",
    "birth_date_mismatch",
]

REASONS: frozenset[str] = frozenset(get_args(Reason))


class FieldInvalid(ValueError):
    """A field value failed validation; `reason` says why.

    The value is personal information, so neither the message nor any attribute
    carries it: only the reason does. Raise it `from None` when catching a library
    error, because those messages often quote the input and a chained traceback
    would put it in a log line.
    """

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


class UnknownFormatError(LookupError):
    """The catalog names a format that has no validator (a programming error)."""

    def __init__(self, format_name: str) -> None:
        msg = f"unknown field format: {format_name!r}"
        super().__init__(msg)
        self.format_name = format_name
