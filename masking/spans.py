"""Rewriting the spans of a text that PII detection found, each as the caller may see it.

A plain splice rather than presidio-anonymizer's engine: the operators are bound once per
plan (`OperatorRegistry.bind`), so the hot path only slices and joins, with no operator
config built or validated per span.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

__all__ = ["Span", "replace_spans"]


class Span(Protocol):
    """A detected entity: its type and where it sits in the text (str offsets)."""

    @property
    def entity_type(self) -> str: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


S = TypeVar("S", bound=Span)


def replace_spans(text: str, spans: Iterable[S], replace: Callable[[S, str], str]) -> str:
    """`text` with each span's characters replaced by `replace(span, value)`.

    Detection reports sorted, non-overlapping spans; should two overlap anyway, the
    later one is clipped to what the earlier one left, so no character of either is
    shown as it was. Spans outside the text are clipped to it.
    """
    parts: list[str] = []
    cursor = 0
    length = len(text)
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        start = max(span.start, cursor)
        end = min(span.end, length)
        if end <= start:
            continue
        parts.append(text[cursor:start])
        parts.append(replace(span, text[start:end]))
        cursor = end
    if not parts:
        return text
    parts.append(text[cursor:])
    return "".join(parts)
