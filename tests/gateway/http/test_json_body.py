"""The one JSON body parser: media type, encoding and limits, each refusal naming why."""

from __future__ import annotations

import json

import pytest

from gateway.http.errors import BadRequest, UnsupportedMediaType
from gateway.http.json_body import (
    DEFAULT_LIMITS,
    JsonLimits,
    RequestBody,
    parse_json,
    parse_json_object,
)

JSON = "application/json"


def limit_of(raw: bytes, limits: JsonLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(BadRequest) as refused:
        parse_json(RequestBody(raw, JSON), limits)
    assert refused.value.reason == "invalid_json"
    (problem,) = refused.value.errors
    assert problem.field == "body"
    return problem.reason


@pytest.mark.parametrize(
    "content_type",
    [
        JSON,
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        'application/json; charset="utf8"',
    ],
)
def test_given_json_in_utf8_then_parsed(content_type: str) -> None:
    assert parse_json_object(RequestBody('{"name": "张三"}'.encode(), content_type)) == {
        "name": "张三"
    }


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'{"a": 1}', None),
        (b'{"a": 1}', ""),
        (b'{"a": 1}', "text/plain"),
        (b'{"a": 1}', "application/x-www-form-urlencoded"),
        (b'{"a": 1}', "application/json; charset=utf-16"),
        (b'{"a": 1}', "application/json; charset=latin-1"),
        ('{"a": 1}'.encode("utf-16"), JSON),
        ('{"a": 1}'.encode("utf-16-le"), JSON),
        ('{"a": 1}'.encode("utf-32"), JSON),
        (b'\xef\xbb\xbf{"a": 1}', JSON),
    ],
)
def test_given_another_media_type_or_encoding_then_415(
    raw: bytes, content_type: str | None
) -> None:
    with pytest.raises(UnsupportedMediaType):
        parse_json(RequestBody(raw, content_type))


def test_given_nesting_at_the_limit_then_parsed_and_past_it_then_max_depth() -> None:
    depth = DEFAULT_LIMITS.max_depth
    parse_json(RequestBody(b"[" * depth + b"]" * depth, JSON))
    assert limit_of(b"[" * (depth + 1) + b"]" * (depth + 1)) == "max_depth"
    # Past the parser's own limit (1024) too, named the same way; never RecursionError.
    assert limit_of(b"[" * 100_000 + b"]" * 100_000) == "max_depth"
    assert limit_of(b'{"a":' * 5000 + b"1" + b"}" * 5000) == "max_depth"


@pytest.mark.parametrize(
    ("raw", "limit"),
    [
        (b"1" * 19, "max_integer_digits"),
        (b'{"n": -' + b"9" * 19 + b"}", "max_integer_digits"),
        (b"[" + b"1" * 5000 + b"]", "max_integer_digits"),
        (b"1" * 400 + b".5", "max_integer_digits"),
        (json.dumps({"t": "x" * 65_537}).encode(), "max_string_chars"),
        (json.dumps({"x" * 65_537: 1}).encode(), "max_string_chars"),
        (json.dumps({f"k{i}": i for i in range(1001)}).encode(), "max_members"),
        (json.dumps(list(range(1001))).encode(), "max_members"),
    ],
)
def test_given_a_body_past_a_limit_then_400_naming_the_limit(raw: bytes, limit: str) -> None:
    assert limit_of(raw) == limit


@pytest.mark.parametrize(
    "raw",
    [
        b"9" * 18,
        b"-" + b"9" * 18,
        b'"' + b"1" * 5000 + b'"',  # digits inside a string are no number
        b'{"' + b"7" * 100 + b'": 1}',
        b"0." + b"1" * 300,  # a long fraction is no long integer
        b"1e308",
        b"1.5E-300",
    ],
)
def test_given_numbers_and_digits_within_the_limits_then_parsed(raw: bytes) -> None:
    parse_json(RequestBody(raw, JSON))


@pytest.mark.parametrize(
    "raw",
    [
        b"NaN",
        b"[Infinity]",
        b"-Infinity",
        b"1e400",
        b'"\\ud800"',
        b'"\\udc00\\ud800"',
        b"\xed\xa0\x80",
        b"\xff",
        b"",
        b"{",
        b"{'a': 1}",
    ],
)
def test_given_what_is_not_json_then_400_invalid_json_and_never_another_error(raw: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_json(RequestBody(raw, JSON))
    assert refused.value.reason == "invalid_json"


def test_given_limits_of_its_own_then_a_caller_may_allow_longer_strings() -> None:
    limits = JsonLimits(max_string_chars=100_000)
    text = "x" * 80_000
    assert parse_json(RequestBody(json.dumps({"t": text}).encode(), JSON), limits) == {"t": text}


def test_given_an_array_body_where_an_object_is_needed_then_invalid_body() -> None:
    with pytest.raises(BadRequest) as refused:
        parse_json_object(RequestBody(b"[1]", JSON))
    assert refused.value.reason == "invalid_body"


def test_given_a_refusal_then_its_message_quotes_nothing_sent() -> None:
    secret = "13812345678"
    for raw in (f'{{"{secret}": 1'.encode(), f'"{secret}'.encode(), (f"{secret}0" * 2).encode()):
        with pytest.raises(BadRequest) as refused:
            parse_json(RequestBody(raw, JSON))
        assert secret not in refused.value.detail
