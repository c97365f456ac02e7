"""The governed call's header reader over the ASGI scope: case-insensitive names, every
value of a repeated header (so a second line is refused, not silently dropped), and no
value in its repr."""

from __future__ import annotations

import pytest

from gateway.http.errors import BadRequest
from gateway.http.headers import RequestHeaders, single_header

KEY = "Bearer wg_not-a-real-key"


def test_given_a_header_in_any_case_then_found_by_its_name() -> None:
    headers = RequestHeaders(
        [(b"x-purpose", b"customer_service"), (b"AUTHORIZATION", KEY.encode())]
    )
    assert single_header(headers, "X-Purpose") == "customer_service"
    assert single_header(headers, "Authorization") == KEY
    assert headers.get("authorization") == KEY
    assert single_header(headers, "X-On-Behalf-Of") is None


def test_given_a_header_twice_in_different_cases_then_ambiguous() -> None:
    headers = RequestHeaders([(b"Authorization", KEY.encode()), (b"authorization", KEY.encode())])
    assert headers.getall("Authorization", []) == [KEY, KEY]
    with pytest.raises(BadRequest) as refused:
        single_header(headers, "Authorization")
    assert refused.value.reason == "ambiguous_header"


def test_given_latin1_bytes_then_decoded_as_litestar_does() -> None:
    raw = "张三".encode()  # raw UTF-8 in a header arrives as Latin-1 text (RFC 9110 obs-text)
    headers = RequestHeaders([(b"x-on-behalf-of", raw)])
    assert headers.get("X-On-Behalf-Of") == raw.decode("latin-1")


def test_given_headers_then_repr_names_no_value() -> None:
    headers = RequestHeaders([(b"authorization", KEY.encode()), (b"x-on-behalf-of", b"agent-7")])
    assert "wg_" not in repr(headers)
    assert "agent-7" not in repr(headers)
