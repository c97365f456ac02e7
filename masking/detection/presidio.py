"""presidio-analyzer over our detector's parts, for callers that want presidio's API.

Importing this module imports presidio-analyzer, and with it spaCy (its package imports
every predefined recognizer and NLP engine): about a second of CPU. The serving path
never imports it; `PiiDetector` runs the same analysis without presidio. What is here
only adapts: `build_analyzer_engine(detector)` registers each of the detector's
recognizers (wrapped), its NLP engine (wrapped) and its context rule (wrapped), so
presidio's `AnalyzerEngine.analyze` gives the findings `PiiDetector.analyze` gives
(tests/masking/detection/test_presidio_adapter.py holds the two to that).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

# First: presidio logs when it is imported (see _quiet).
from masking._quiet import quiet_libraries  # isort: skip

from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    LocalRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine

from masking.detection._context import WindowContextEnhancer
from masking.detection._detector import PiiDetector, build_detector
from masking.detection._nlp import TokenArtifacts, TokenNlpEngine
from masking.detection.recognizers import WardgateRecognizer

__all__ = [
    "PresidioContextEnhancer",
    "PresidioNlpEngine",
    "PresidioRecognizer",
    "PresidioTokenArtifacts",
    "build_analyzer_engine",
]


class PresidioTokenArtifacts(TokenArtifacts, NlpArtifacts):  # type: ignore[misc,override]
    """Our lazy artifacts as presidio's `NlpArtifacts` (its tokens, lemmas, keywords
    are our properties; presidio's eager constructor is not called)."""

    def __init__(self, text: str, nlp_engine: NlpEngine) -> None:
        TokenArtifacts.__init__(self, text)
        self.entities = []
        self.scores = []
        self.nlp_engine = nlp_engine


class PresidioNlpEngine(NlpEngine):
    """`TokenNlpEngine` as presidio's `NlpEngine`: no model, nothing to download."""

    def __init__(self, engine: TokenNlpEngine) -> None:
        self.engine = engine
        self._loaded = False

    def load(self) -> None:
        self._loaded = True

    def is_loaded(self) -> bool:
        return self._loaded

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return PresidioTokenArtifacts(text, self)

    def process_batch(
        self,
        texts: Iterable[str],
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        **kwargs: Any,
    ) -> Iterator[tuple[str, NlpArtifacts]]:
        for text in texts:
            yield text, PresidioTokenArtifacts(text, self)

    def is_stopword(self, word: str, language: str) -> bool:
        return self.engine.is_stopword(word)

    def is_punct(self, word: str, language: str) -> bool:
        return self.engine.is_punct(word)

    def get_supported_entities(self) -> list[str]:
        return []  # no model-based NER

    def get_supported_languages(self) -> list[str]:
        return list(self.engine.languages)


class PresidioRecognizer(LocalRecognizer):
    """One of our recognizers as presidio's: same name, language, entity, context, id."""

    def __init__(self, recognizer: WardgateRecognizer) -> None:
        self.recognizer = recognizer
        super().__init__(
            supported_entities=list(recognizer.supported_entities),
            name=recognizer.name,
            supported_language=recognizer.supported_language,
            context=list(recognizer.context),
        )
        # Our id, so results and the context rule name the recognizer as ours do.
        self._id = recognizer.id

    def load(self) -> None:
        """Nothing to load: patterns are compiled at import, data ships with the code."""

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        results = []
        for finding in self.recognizer.analyze(text):
            if finding.entity_type not in entities:
                continue
            metadata: dict[str, object] = {
                RecognizerResult.RECOGNIZER_NAME_KEY: self.recognizer.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: finding.recognizer_id,
            }
            if finding.context_applied:
                metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
            results.append(
                RecognizerResult(
                    finding.entity_type,
                    finding.start,
                    finding.end,
                    finding.score,
                    recognition_metadata=metadata,
                )
            )
        return results


class PresidioContextEnhancer(LemmaContextAwareEnhancer):
    """`WindowContextEnhancer`'s rule as presidio's context enhancer.

    On our artifacts it applies our bounded window (sentence and text); on any other
    artifacts presidio's own lemma rule, with the same parameters.
    """

    def __init__(self, enhancer: WindowContextEnhancer) -> None:
        super().__init__(
            context_similarity_factor=enhancer.context_similarity_factor,
            min_score_with_context_similarity=enhancer.min_score_with_context_similarity,
            context_prefix_count=enhancer.context_prefix_count,
            context_suffix_count=enhancer.context_suffix_count,
            context_matching_mode=enhancer.context_matching_mode,
        )
        self.enhancer = enhancer

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
            score, supportive = self.enhancer.enhanced_score(
                result.score, recognizer, nlp_artifacts, result.start, result.end, extra
            )
            if supportive:
                result.score = score
                if result.analysis_explanation is not None:
                    result.analysis_explanation.set_supportive_context_word(supportive)
                    result.analysis_explanation.set_improved_score(score)
        return raw_results


def build_analyzer_engine(detector: PiiDetector | None = None) -> AnalyzerEngine:
    """presidio's `AnalyzerEngine` over `detector`'s recognizers, NLP engine, context
    rule and score threshold (a new `build_detector()` if None). Call
    `analyze(text, language, entities=list(ENTITY_TYPES),
    score_threshold=detector.score_threshold)` for `detector.analyze`'s findings."""
    quiet_libraries()
    detector = detector or build_detector()
    languages = list(detector.nlp_engine.languages)
    registry = RecognizerRegistry(supported_languages=languages)
    for language in languages:
        for recognizer in detector.recognizers(language):
            registry.add_recognizer(PresidioRecognizer(recognizer))
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=PresidioNlpEngine(detector.nlp_engine),
        supported_languages=languages,
        context_aware_enhancer=PresidioContextEnhancer(detector.enhancer),
        default_score_threshold=detector.score_threshold,
    )
