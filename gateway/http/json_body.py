"""Request bodies: the one place where bytes from a caller become JSON.

Every JSON body of the API goes through `parse_json`: it must be `application/json` in
UTF-8 (415 `unsupported_media_type` otherwise, a UTF-16 or UTF-32 body included), and it
must stay inside explicit limits — nesting depth, members of one object or array,
string length, digits of an integer — or it gets 400 `invalid_json` whose `errors`
name the limit (`{"field": "body", "reason": "max_depth"}`). Nothing a caller sends can
make the parser raise anything else: orjson refuses nesting past 1024 levels, NaN and
Infinity, numbers that overflow a double, lone surrogates and invalid UTF-8 as a
`JSONDecodeError`, and our limits are checked on its result without recursion.

Messages name the limit and its value, never a part of the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from litestar import Request
from litestar.exceptions import InternalServerException

from gateway.http.errors import BadRequest, FieldProblem, IncompleteBody, UnsupportedMediaType

JSON_MEDIA_TYPE = "application/json"

# A JSON string, so that digits inside strings are not taken for numbers; and the
# integer part of a number. Both run on a body orjson has already accepted as JSON.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_INTEGER_PART = re.compile(rb"(?<![\w.+-])-?(\d+)")

# Byte order marks and the NUL pattern of UTF-16/32 text (RFC 4627 §3): the body is
# JSON in another encoding, which is a media type question (415), not a syntax one.
_FOREIGN_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, slots=True)
class JsonLimits:
    """What a JSON body may hold. The body's size in bytes is capped before it is read
    (`WARDGATE_MAX_BODY_BYTES`, 413); these bound what is inside."""

    max_depth: int = 32
    """Nesting of objects and arrays; the API's bodies nest at most 3 deep."""
    max_members: int = 1_000
    """Members of one object or items of one array."""
    max_string_chars: int = 65_536
    """Characters of one string or object key (a scan text may be larger, see scan)."""
    max_integer_digits: int = 18
    """Digits of an integer: every integer of the API fits in 64 bits."""


DEFAULT_LIMITS = JsonLimits()


@dataclass(frozen=True, slots=True)
class RequestBody:
    """The bytes of a request body and the media type they came with."""

    raw: bytes
    content_type: str | None = None
    """The Content-Type header as sent, or None without one."""

    @property
    def empty(self) -> bool:
        return not self.raw.strip()


def _too_much(limit: str, detail: str) -> BadRequest:
    msg = f"the JSON body is beyond this gateway's limits: {detail} ({limit})"
    return BadRequest(msg, reason="invalid_json", errors=(FieldProblem("body", limit),))


def check_media_type(content_type: str | None) -> None:
    """`application/json`, with no charset or charset UTF-8; 415 otherwise."""
    media_type, _, params = (content_type or "").partition(";")
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        msg = "send the body as application/json in UTF-8"
        raise UnsupportedMediaType(msg)
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            msg = "send the body as application/json in UTF-8 (charset=utf-8)"
            raise UnsupportedMediaType(msg)


def check_utf8_encoding(raw: bytes) -> None:
    """415 for text that announces another encoding (a byte order mark, or the NUL
    bytes UTF-16 and UTF-32 put into ASCII text)."""
    if raw.startswith(_FOREIGN_BOMS) or b"\x00" in raw[:4]:
        msg = "the body is not UTF-8 (a byte order mark or UTF-16/32 text): send UTF-8"
        raise UnsupportedMediaType(msg)


def _check_numbers(raw: bytes, limits: JsonLimits) -> None:
    if not any(c in raw for c in b"0123456789"):
        return
    outside_strings = _STRING.sub(b'""', raw)
    for match in _INTEGER_PART.finditer(outside_strings):
        if len(match.group(1)) > limits.max_integer_digits:
            detail = f"a number has more than {limits.max_integer_digits} integer digits"
            raise _too_much("max_integer_digits", detail)


def _check_string(value: str, limits: JsonLimits) -> None:
    if len(value) > limits.max_string_chars:
        detail = f"a string is longer than {limits.max_string_chars} characters"
        raise _too_much("max_string_chars", detail)


def check_limits(document: object, limits: JsonLimits = DEFAULT_LIMITS) -> None:
    """Depth, width and string length of a parsed document, walked without recursion."""
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_string(value, limits)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > limits.max_depth:
            detail = f"objects and arrays nest deeper than {limits.max_depth} levels"
            raise _too_much("max_depth", detail)
        if len(value) > limits.max_members:
            detail = f"an object or array has more than {limits.max_members} members"
            raise _too_much("max_members", detail)
        if isinstance(value, dict):
            for key in value:
                _check_string(key, limits)
            pending.extend((item, depth + 1) for item in value.values())
        else:
            pending.extend((item, depth + 1) for item in value)


def parse_json(body: RequestBody, limits: JsonLimits = DEFAULT_LIMITS) -> Any:
    """The JSON document of a request body, within `limits`; 415 or 400 otherwise."""
    check_media_type(body.content_type)
    return parse_json_bytes(body.raw, limits)


def parse_json_bytes(raw: bytes, limits: JsonLimits = DEFAULT_LIMITS) -> Any:
    """Bytes known to be meant as JSON (the media type was checked by the caller)."""
    check_utf8_encoding(raw)
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson stops at 1024 levels, far past our limit: name the limit, not the parser.
        if "depth" in str(exc):
            detail = f"objects and arrays nest deeper than {limits.max_depth} levels"
            raise _too_much("max_depth", detail) from None
        # A number too large for a double is refused by orjson too: say which limit.
        _check_numbers(raw, limits)
        msg = "the request body is not valid UTF-8 JSON"
        raise BadRequest(msg, reason="invalid_json") from None
    _check_numbers(raw, limits)
    check_limits(document, limits)
    return document


def parse_json_object(
    body: RequestBody, limits: JsonLimits = DEFAULT_LIMITS, *, shape: str = ""
) -> dict[str, Any]:
    """A JSON object body; 400 `invalid_body` for any other JSON value."""
    document = parse_json(body, limits)
    if not isinstance(document, dict):
        msg = "the request body must be a JSON object" + (f" {shape}" if shape else "")
        raise BadRequest(msg, reason="invalid_body")
    return document


async def read_body(request: Request[Any, Any, Any]) -> RequestBody:
    """The body of a request with its Content-Type, for a pipeline to parse after it has
    decided that the caller may make this call at all.

    A body that never arrives in full — the client went away, or `wardgate serve` cut it
    off at the body deadline (`gateway.http.transport`) — is the client's doing: 408
    `incomplete_body` (audited so), not the generic 500 Litestar's disconnect would be."""
    try:
        raw = await request.body()
    except InternalServerException as exc:
        if "disconnected" not in str(exc.detail):
            raise
        msg = "the request body did not arrive in full (too slow, or the client went away)"
        raise IncompleteBody(msg) from None
    return RequestBody(raw, request.headers.get("content-type"))
