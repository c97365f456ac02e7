"""Context words raise a match's score: presidio's rule, in time linear in the matches.

presidio's `LemmaContextAwareEnhancer` (presidio-analyzer 2.2,
`context_aware_enhancers/lemma_context_aware_enhancer.py`) looks for a recognizer's
context words among the few tokens before a match and, if one is there, adds
`context_similarity_factor` to the score (at least `min_score_with_context_similarity`,
at most 1). Its implementation scans the token list from the start for every match and
tests membership in a list, which is quadratic in the text length; a batch of records
joined into one text would pay for that. This class keeps the rule and the parameters
(presidio's defaults), reads the tokens of a short window around each match only
(`TokenArtifacts.context_words`), and stops at the end of the match's sentence and at the
`SEPARATOR` between batched texts, so a text's context never comes from its neighbour.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Protocol

from masking.detection._nlp import TokenArtifacts
from masking.detection._result import RecognizerFinding

__all__ = ["ContextSource", "WindowContextEnhancer"]

_JOIN = "\n"  # no context word contains a newline, so no match spans two lemmas
MAX_SCORE = 1.0  # presidio's ContextAwareEnhancer.MAX_SCORE


class ContextSource(Protocol):
    """What the rule needs of a recognizer: its id and its context words."""

    @property
    def id(self) -> str: ...

    @property
    def context(self) -> Sequence[str]: ...


class WindowContextEnhancer:
    """presidio's lemma context rule over `TokenArtifacts`, bounded per sentence and text."""

    def __init__(
        self,
        *,
        context_similarity_factor: float = 0.35,
        min_score_with_context_similarity: float = 0.4,
        context_prefix_count: int = 5,
        context_suffix_count: int = 0,
        context_matching_mode: Literal["substring", "whole_word"] = "substring",
    ) -> None:
        self.context_similarity_factor = context_similarity_factor
        self.min_score_with_context_similarity = min_score_with_context_similarity
        self.context_prefix_count = context_prefix_count
        self.context_suffix_count = context_suffix_count
        self.context_matching_mode = context_matching_mode
        # One compiled pattern per recognizer id; filled on first use (recognizers
        # are fixed once the detector is built, so a racing fill writes the same).
        self._patterns: dict[str, re.Pattern[str]] = {}

    def enhance(
        self,
        findings: Iterable[RecognizerFinding],
        artifacts: TokenArtifacts,
        recognizers: Mapping[str, ContextSource],
        context: Sequence[str] = (),
    ) -> list[RecognizerFinding]:
        """`findings` with each score raised where a context word of its recognizer
        (found by `recognizer_id` in `recognizers`) is near it or in `context`."""
        extra = [word.lower() for word in context]
        enhanced: list[RecognizerFinding] = []
        for finding in findings:
            recognizer = recognizers.get(finding.recognizer_id)
            # presidio skips findings of unknown recognizers, of recognizers without
            # context words, and those the recognizer already weighed context for.
            if recognizer is not None and recognizer.context and not finding.context_applied:
                score, supportive = self.enhanced_score(
                    finding.score, recognizer, artifacts, finding.start, finding.end, extra
                )
                if supportive:
                    finding = dataclasses.replace(finding, score=score)
            enhanced.append(finding)
        return enhanced

    def enhanced_score(
        self,
        score: float,
        recognizer: ContextSource,
        artifacts: TokenArtifacts,
        start: int,
        end: int,
        extra: Sequence[str] = (),
    ) -> tuple[float, str]:
        """The score after the rule and the supportive word ("" and `score` if none)."""
        words = artifacts.context_words(
            start, end, self.context_prefix_count, self.context_suffix_count
        )
        words.extend(extra)
        supportive = self.supportive_word(recognizer, words)
        if not supportive:
            return score, ""
        # presidio's three steps, in its order (the float results depend on it).
        score += self.context_similarity_factor
        score = max(score, self.min_score_with_context_similarity)
        return min(score, MAX_SCORE), supportive

    def supportive_word(self, recognizer: ContextSource, words: list[str]) -> str:
        """presidio's `_find_supportive_word_in_context`, as one regex search.

        presidio returns the first of the recognizer's context words found; this may
        return another one found, which changes the explanation, never the score.
        """
        pattern = self._patterns.get(recognizer.id)
        if pattern is None:
            alternation = "|".join(
                re.escape(word.lower())
                for word in sorted(recognizer.context, key=len, reverse=True)
            )
            if self.context_matching_mode == "whole_word":
                alternation = f"^(?:{alternation})$"
            pattern = re.compile(alternation, re.MULTILINE)
            self._patterns[recognizer.id] = pattern
        match = pattern.search(_JOIN.join(words))
        return match.group() if match else ""
