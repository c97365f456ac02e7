"""The base of our recognizers: a typed `find` for one entity type, no presidio.

A recognizer yields `Finding`s (start, end, score) for one text; `analyze` tags them
with the entity type and the recognizer's id, which the context enhancer needs to find
the recognizer's context words. Every recognizer is registered once per language (as
presidio keys recognizers by language); the patterns are compiled once, at import.
`masking.detection.presidio` wraps these for presidio's `AnalyzerEngine`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from masking.detection._result import RecognizerFinding
from masking.detection._text import left_window

__all__ = [
    "Finding",
    "RegexRecognizer",
    "WardgateRecognizer",
    "labelled_as",
    "labelled_as_other_number",
]


@dataclass(frozen=True, slots=True)
class Finding:
    start: int
    end: int
    score: float
    context_applied: bool = False
    """True when the recognizer already weighed context itself (the context enhancer
    then leaves the score alone)."""


class WardgateRecognizer(ABC):
    """One entity type, context words, and a typed `find`.

    Context words are single words: they are compared with one token's lemma at a
    time, as presidio does ("credit code" would never match the tokens "credit",
    "code"). Chinese context words match inside a Han run, which is one token.
    """

    ENTITY: ClassVar[str]
    CONTEXT: ClassVar[tuple[str, ...]] = ()

    def __init__(self, language: str) -> None:
        self.name = type(self).__name__
        self.supported_language = language
        self.supported_entities: tuple[str, ...] = (self.ENTITY,)
        self.context: tuple[str, ...] = self.CONTEXT
        # presidio's id is name + id(self); name + language is as unique within one
        # detector (one instance per class and language) and the same in every process.
        self.id = f"{self.name}_{language}"

    @abstractmethod
    def find(self, text: str) -> Iterator[Finding]:
        """The spans of this entity in `text`, scored before context enhancement."""

    def analyze(self, text: str) -> list[RecognizerFinding]:
        """`find`, tagged with this recognizer's entity type and id."""
        entity, recognizer_id = self.ENTITY, self.id
        return [
            RecognizerFinding(
                entity, found.start, found.end, found.score, recognizer_id, found.context_applied
            )
            for found in self.find(text)
        ]


class RegexRecognizer(WardgateRecognizer):
    """Candidates from one compiled pattern; `score` validates and weighs each.

    If the pattern has a group named `v`, that group is the entity (the rest of the
    match is there to anchor it, e.g. a `+86` prefix left outside the span).
    """

    PATTERN: ClassVar[re.Pattern[str]]

    def find(self, text: str) -> Iterator[Finding]:
        for match in self.PATTERN.finditer(text):
            start, end = match.span("v") if "v" in self.PATTERN.groupindex else match.span()
            score = self.score(text, match, start, end)
            if score is not None:
                yield Finding(start, end, score)

    @abstractmethod
    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        """The score of `text[start:end]`, or None if it is not this entity."""


# Labels that say the number right after them is something else: order, waybill,
# ticket or serial numbers. Only the label directly before a number counts, so
# "订单联系人手机139..." is still a phone number.
_OTHER_NUMBER_LABEL = re.compile(
    r"(?:订单|单号|编号|流水号?|工单|运单|快递单?|物流单?|交易号|批次号?|序列号|券码|验证码"
    r"|发票号码?|合同号|会员号|账单号|ticket|order|tracking|invoice|serial|ref|no\.?)"
    r"\s*(?:号码?|no\.?|id|#)?\s*[:：#]?\s*$",
    re.IGNORECASE,
)


def labelled_as(pattern: re.Pattern[str], text: str, start: int, size: int = 12) -> bool:
    """True if `pattern` matches the text just before `start` (within its own text)."""
    return pattern.search(left_window(text, start, size)) is not None


def labelled_as_other_number(text: str, start: int) -> bool:
    return labelled_as(_OTHER_NUMBER_LABEL, text, start)
