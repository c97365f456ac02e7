"""Replacing detected spans in a text: offsets, order, overlaps, edges."""

from __future__ import annotations

from dataclasses import dataclass

from masking import default_registry
from masking.spans import replace_spans


@dataclass(frozen=True)
class Found:
    entity_type: str
    start: int
    end: int


def bracket(span: Found, _value: str) -> str:
    return f"[{span.entity_type}]"


def test_given_spans_then_each_is_replaced_and_the_rest_kept() -> None:
    text = "客户王建国来电，手机13912345678，邮箱wang@example.com。"
    spans = [Found("PERSON", 2, 5), Found("CN_MOBILE", 10, 21), Found("EMAIL", 24, 40)]

    assert replace_spans(text, spans, bracket) == "客户[PERSON]来电，手机[CN_MOBILE]，邮箱[EMAIL]。"


def test_given_operator_then_value_is_masked_in_place() -> None:
    mobile = default_registry().bind("mobile")
    text = "手机13912345678收不到验证码"

    masked = replace_spans(text, [Found("CN_MOBILE", 2, 13)], lambda _s, v: mobile(v))

    assert masked == "手机139****5678收不到验证码"


def test_given_unsorted_spans_then_result_is_the_same() -> None:
    text = "a1b22c333"
    spans = [Found("X", 6, 9), Found("Y", 1, 2), Found("Z", 3, 5)]

    assert replace_spans(text, spans, bracket) == "a[Y]b[Z]c[X]"


def test_given_overlapping_spans_then_no_character_of_either_survives() -> None:
    text = "ID 110101199003077777 end"
    spans = [Found("A", 3, 15), Found("B", 10, 21)]

    result = replace_spans(text, spans, lambda s, v: "#" * len(v))

    assert result == "ID " + "#" * 18 + " end"


def test_given_no_spans_or_empty_or_out_of_range_then_text_is_unchanged() -> None:
    assert replace_spans("plain", [], bracket) == "plain"
    assert replace_spans("", [Found("X", 0, 3)], bracket) == ""
    assert replace_spans("abc", [Found("X", 5, 9), Found("Y", 2, 2)], bracket) == "abc"
    assert replace_spans("abcdef", [Found("X", 4, 99)], bracket) == "abcd[X]"
