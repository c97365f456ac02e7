"""Context words raise a match's score: presidio's rule, in time linear in the matches.

presidio's `LemmaContextAwareEnhancer` looks for a recognizer's context words among
the few tokens before a match and, if one is there, adds `context_similarity_factor`
to the score (at least `min_score_with_context_similarity`). Its implementation scans
the token list from the start for every match and tests membership in a list, which is
quadratic in the text length; a batch of records joined into one text would pay for
that. This subclass keeps the rule and the parameters, finds the match's token by
bisection, and stops at the `SEPARATOR` between batched texts, so a text's context
never comes from its neighbour.
"""

from __future__ import annotations

import bisect

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

from masking.detection._nlp import TokenArtifacts
from masking.detection._text import SEPARATOR

__all__ = ["WindowContextEnhancer"]


class WindowContextEnhancer(LemmaContextAwareEnhancer):
    """presidio's lemma context rule over `TokenArtifacts`, bounded per text."""

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
            words = self._words_before(nlp_artifacts, result.start)
            words.extend(extra)
            supportive = self._find_supportive_word_in_context(
                words, recognizer.context, self.context_matching_mode
            )
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

    def _words_before(self, artifacts: TokenArtifacts, start: int) -> list[str]:
        """The match's own token and up to `context_prefix_count` keywords before it,
        then up to `context_suffix_count` keywords after it, all within one text."""
        starts, lemmas, flags = artifacts.starts, artifacts.lemmas, artifacts.keyword_flags
        index = max(0, bisect.bisect_right(starts, start) - 1)
        words: list[str] = []
        remaining = self.context_prefix_count + 1
        i = index
        while i >= 0 and remaining > 0 and lemmas[i] != SEPARATOR:
            if flags[i]:
                words.append(lemmas[i])
                remaining -= 1
            i -= 1
        remaining = self.context_suffix_count
        i = index + 1
        while i < len(lemmas) and remaining > 0 and lemmas[i] != SEPARATOR:
            if flags[i]:
                words.append(lemmas[i])
                remaining -= 1
            i += 1
        return words
