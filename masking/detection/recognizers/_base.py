"""The base of our recognizers: typed `find` instead of presidio's loose `analyze`.

A recognizer yields `Finding`s (start, end, score) for one text; the base turns them
into presidio `RecognizerResult`s tagged with the recognizer's id, which presidio's
context enhancer needs. Every recognizer is registered once per language (presidio
keys recognizers by language); the patterns are compiled once, at import.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

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
    """True when the recognizer already weighed context itself (presidio's enhancer
    then leaves the score alone)."""


class WardgateRecognizer(LocalRecognizer):
    """One entity type, context words, and a typed `find`.

    Context words are single words: presidio compares them with one token's lemma at a
    time ("credit code" would never match the tokens "credit", "code"). Chinese
    context words match inside a Han run, which is one token.
    """

    ENTITY: ClassVar[str]
    CONTEXT: ClassVar[tuple[str, ...]] = ()

    def __init__(self, language: str) -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=type(self).__name__,
            supported_language=language,
            context=list(self.CONTEXT),
        )

    def load(self) -> None:
        """Nothing to load: patterns are compiled at import, data ships with the code."""

    @abstractmethod
    def find(self, text: str) -> Iterator[Finding]:
        """The spans of this entity in `text`, scored before context enhancement."""

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        if self.ENTITY not in entities:
            return []
        results = []
        for finding in self.find(text):
            metadata: dict[str, object] = {
                RecognizerResult.RECOGNIZER_NAME_KEY: type(self).__name__,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            }
            if finding.context_applied:
                metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
            results.append(
                RecognizerResult(
                    self.ENTITY,
                    finding.start,
                    finding.end,
                    finding.score,
                    recognition_metadata=metadata,
                )
            )
        return results


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
