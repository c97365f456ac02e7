"""A JSON body into its declared msgspec Struct: 422 naming the field on any mismatch."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

from gateway.http.errors import FieldProblem, Unprocessable
from gateway.http.json_body import RequestBody, parse_json

T = TypeVar("T", bound=msgspec.Struct)

_AT = re.compile(r" - at `\$\.?([^`]*)`")
_UNKNOWN = re.compile(r"unknown field `([^`]{1,64})`")
_MISSING = re.compile(r"missing required field `([^`]{1,64})`")


def decode_struct(body: RequestBody, schema: type[T], what: str = "body") -> T:
    """`body` as `schema`; a mismatch is one 422 whose error names the field by path
    (`measures[0].field`) and a reason: unknown_field, required or invalid_value."""
    document = parse_json(body)
    try:
        return msgspec.convert(document, schema)
    except msgspec.ValidationError as exc:
        text = str(exc)
        found = _AT.search(text)
        where = found.group(1) if found else ""
        reason = "invalid_value"
        for pattern, word in ((_UNKNOWN, "unknown_field"), (_MISSING, "required")):
            named = pattern.search(text)
            if named is not None:
                # Named like every other body's fields: by the (dotted) path to them.
                where = f"{where}.{named.group(1)}" if where else named.group(1)
                reason = word
                break
        where = where or "body"
        msg = f"invalid {what} at {where}"
        raise Unprocessable(msg, reason=reason, errors=(FieldProblem(where, reason),)) from None
