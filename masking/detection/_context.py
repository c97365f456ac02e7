"""Context words raise a match's score: presidio's rule, in time linear in the matches.

presidio's `LemmaContextAwareEnhancer` looks for a recognizer's context words among
the few tokens before a match and, if one is there, adds `context_similarity_factor`
to the score (at least `min_score_with_context_similarity`). Its implementation scans
the token list from the start for every match and tests membership in a list, which is
quadratic in the text length; a batch of records joined into one text would pay for
that. This subclass keeps the rule and the parameters, reads the tokens of a short
window around each match only (`TokenArtifacts.context_words`), and stops at the
`SEPARATOR` between batched texts, so a text's context never comes from its neighbour.
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

from masking.detection._nlp import TokenArtifacts

__all__ = ["WindowContextEnhancer"]

_JOIN = "\n"  # no context word contains a newline, so no match spans two lemmas


class WindowContextEnhancer(LemmaContextAwareEnhancer):
    """presidio's lemma context rule over `TokenArtifacts`, bounded per text."""

    def __init__(self) -> None:
        super().__init__()
        # One compiled pattern per recognizer id; filled on first use (recognizers
        # are fixed once the analyzer is built, so a racing fill writes the same).
        self._patterns: dict[str, re.Pattern[str]] = {}

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        if not isinstance(nlp_artifacts, TokenArtifacts):
            return super().enhance_using_context(
                text, raw_results, nlp_artifacts, recognizers, context
            )
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        extra = [word.lower() for word in context or ()]
        # The results are fresh objects of this analyze call; presidio copies them
        # first, which costs more than the rest of this loop.
        for result in raw_results:
            metadata = result.recognition_metadata or {}
            if metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            recognizer = by_id.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, ""))
            if recognizer is None or not recognizer.context:
                continue
            words = nlp_artifacts.context_words(
                result.start,
                result.end,
                self.context_prefix_count,
                self.context_suffix_count,
            )
            words.extend(extra)
            supportive = self._supportive_word(recognizer, words)
            if supportive:
                score = max(
                    result.score + self.context_similarity_factor,
                    self.min_score_with_context_similarity,
                )
                result.score = min(score, self.MAX_SCORE)
                if result.analysis_explanation is not None:
                    result.analysis_explanation.set_supportive_context_word(supportive)
                    result.analysis_explanation.set_improved_score(result.score)
        return raw_results

    def _supportive_word(self, recognizer: EntityRecognizer, words: list[str]) -> str:
        """presidio's `_find_supportive_word_in_context`, as one regex search."""
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
