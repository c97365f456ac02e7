"""`PiiDetector`: presidio's `AnalyzerEngine` with our recognizers, behind a typed API.

`detect_many` joins texts into chunks of about `CHUNK_CHARS` characters, separated by
`SEPARATOR`, and calls presidio once per chunk: presidio's per-call work (recognizer
lookup, context enhancement, duplicate removal) is then paid per chunk, not per record.
Every recognizer and the context enhancer stop at the separator, so a text's findings
are the same alone or in a batch.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

from masking._quiet import quiet_libraries
from masking.detection._context import WindowContextEnhancer
from masking.detection._entities import ENTITY_TYPES, DetectedEntity
from masking.detection._errors import UnsupportedLanguageError
from masking.detection._jieba import initialize_jieba
from masking.detection._nlp import LANGUAGES, TokenNlpEngine
from masking.detection._overlaps import resolve_overlaps
from masking.detection._text import SEPARATOR, has_cjk
from masking.detection.recognizers import RECOGNIZER_CLASSES

__all__ = ["CHUNK_CHARS", "SCORE_THRESHOLD", "PiiDetector", "build_detector"]

SCORE_THRESHOLD = 0.5
"""Findings scoring below this are dropped; context words lift weak ones above it."""
CHUNK_CHARS = 8192

_WARM_UP = (
    "客户王建国来电，手机13912345678，身份证11010519491231002X，地址北京市朝阳区建国路88号。",
    "Mr. John Smith, phone +86 139 1234 5678, mail john.smith@example.com, IP 10.0.0.1.",
)


class PiiDetector:
    """Built once by `build_detector()`; safe to call from several threads or tasks
    (recognizers keep no per-call state)."""

    def __init__(self, analyzer: AnalyzerEngine, *, score_threshold: float = SCORE_THRESHOLD):
        self.analyzer = analyzer
        self.supported_entities: tuple[str, ...] = ENTITY_TYPES
        self._entities = list(ENTITY_TYPES)
        self._threshold = score_threshold

    def detect(self, text: str, *, language: str | None = None) -> list[DetectedEntity]:
        """Entities in `text`, non-overlapping and sorted by start. `language` None
        picks `zh` if the text holds Chinese characters, else `en`."""
        return self.detect_many([text], language=language)[0]

    def detect_many(
        self, texts: Sequence[str], *, language: str | None = None
    ) -> list[list[DetectedEntity]]:
        """`detect` for each text, in one presidio call per chunk of texts."""
        if language is not None and language not in LANGUAGES:
            msg = f"language must be one of {', '.join(LANGUAGES)} or None (auto)"
            raise UnsupportedLanguageError(msg)
        found: list[list[DetectedEntity]] = [[] for _ in texts]
        by_language: dict[str, list[int]] = {}
        for index, text in enumerate(texts):
            if text:
                lang = language or ("zh" if has_cjk(text) else "en")
                by_language.setdefault(lang, []).append(index)
        for lang, indices in by_language.items():
            for chunk in _chunks(texts, indices):
                self._detect_chunk(texts, chunk, lang, found)
        return [resolve_overlaps(entities) for entities in found]

    def _detect_chunk(
        self,
        texts: Sequence[str],
        chunk: list[int],
        language: str,
        found: list[list[DetectedEntity]],
    ) -> None:
        offsets: list[int] = []
        position = 0
        for index in chunk:
            offsets.append(position)
            position += len(texts[index]) + len(SEPARATOR)
        joined = SEPARATOR.join(texts[index] for index in chunk)
        results = self.analyzer.analyze(
            text=joined,
            language=language,
            entities=self._entities,
            score_threshold=self._threshold,
        )
        for result in results:
            slot = bisect.bisect_right(offsets, result.start) - 1
            index = chunk[slot]
            base = offsets[slot]
            start, end = result.start - base, result.end - base
            if end > len(texts[index]):  # pragma: no cover - recognizers stop at SEPARATOR
                continue
            found[index].append(DetectedEntity(result.entity_type, start, end, result.score))


def _chunks(texts: Sequence[str], indices: list[int]) -> list[list[int]]:
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index in indices:
        if current and size + len(texts[index]) > CHUNK_CHARS:
            chunks.append(current)
            current, size = [], 0
        current.append(index)
        size += len(texts[index]) + len(SEPARATOR)
    if current:
        chunks.append(current)
    return chunks


def build_detector(*, score_threshold: float = SCORE_THRESHOLD) -> PiiDetector:
    """The analyzer for `zh` and `en` with our recognizers only; loads no model.

    presidio's predefined recognizers are not loaded (several need a spaCy model, and
    none knows mainland formats); its NLP engine is replaced by `TokenNlpEngine`.
    """
    quiet_libraries()
    initialize_jieba()
    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for language in LANGUAGES:
        for recognizer_class in RECOGNIZER_CLASSES:
            registry.add_recognizer(recognizer_class(language))
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=TokenNlpEngine(LANGUAGES),
        supported_languages=list(LANGUAGES),
        context_aware_enhancer=WindowContextEnhancer(),
        default_score_threshold=score_threshold,
    )
    detector = PiiDetector(analyzer, score_threshold=score_threshold)
    detector.detect_many(_WARM_UP)  # first-call costs (jieba's tagger) paid here
    return detector
