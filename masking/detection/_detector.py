"""`PiiDetector`: our recognizers, presidio's analysis rules, a typed API, no presidio.

`analyze` is what presidio's `AnalyzerEngine.analyze` does for this configuration; it is
written out here so the serving path never imports presidio-analyzer (whose package
imports every predefined recognizer and NLP engine, spaCy among them: about a second
of start-up). `masking.detection.presidio` builds presidio's own engine over the same
parts, and the tests hold the two to the same findings.

`detect_many` joins texts into chunks of about `CHUNK_CHARS` characters, separated by
`SEPARATOR`, and analyzes once per chunk: the per-call work (artifacts, context
enhancement, duplicate removal) is then paid per chunk, not per record. Every
recognizer and the context enhancer stop at the separator, so a text's findings are
the same alone or in a batch.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from masking._quiet import quiet_libraries
from masking.detection._context import WindowContextEnhancer
from masking.detection._entities import ENTITY_TYPES, DetectedEntity
from masking.detection._errors import UnsupportedLanguageError
from masking.detection._jieba import initialize_jieba
from masking.detection._nlp import LANGUAGES, TokenNlpEngine
from masking.detection._overlaps import resolve_overlaps
from masking.detection._result import RecognizerFinding, remove_duplicates
from masking.detection._text import SEPARATOR, has_cjk
from masking.detection.recognizers import RECOGNIZER_CLASSES, WardgateRecognizer

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

    def __init__(
        self,
        recognizers: Iterable[WardgateRecognizer],
        *,
        nlp_engine: TokenNlpEngine,
        enhancer: WindowContextEnhancer,
        score_threshold: float = SCORE_THRESHOLD,
    ) -> None:
        self.nlp_engine = nlp_engine
        self.enhancer = enhancer
        self.score_threshold = score_threshold
        self.supported_entities: tuple[str, ...] = ENTITY_TYPES
        by_language: dict[str, list[WardgateRecognizer]] = {}
        for recognizer in recognizers:
            unknown = set(recognizer.supported_entities) - set(ENTITY_TYPES)
            if unknown:
                # presidio would drop them (we ask it for ENTITY_TYPES only); refuse
                # instead: a finding without a category could not be masked.
                msg = f"{recognizer.name} reports unknown entity types {sorted(unknown)}"
                raise ValueError(msg)
            by_language.setdefault(recognizer.supported_language, []).append(recognizer)
        self._recognizers = {lang: tuple(found) for lang, found in by_language.items()}
        self._by_id = {
            lang: {recognizer.id: recognizer for recognizer in found}
            for lang, found in self._recognizers.items()
        }

    def recognizers(self, language: str) -> tuple[WardgateRecognizer, ...]:
        """The recognizers registered for `language`, in registration order."""
        return self._recognizers.get(language, ())

    def detect(self, text: str, *, language: str | None = None) -> list[DetectedEntity]:
        """Entities in `text`, non-overlapping and sorted by start. `language` None
        picks `zh` if the text holds Chinese characters, else `en`."""
        return self.detect_many([text], language=language)[0]

    def detect_many(
        self, texts: Sequence[str], *, language: str | None = None
    ) -> list[list[DetectedEntity]]:
        """`detect` for each text, in one `analyze` per chunk of texts."""
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
        results = self.analyze(joined, language)
        for result in results:
            slot = bisect.bisect_right(offsets, result.start) - 1
            index = chunk[slot]
            base = offsets[slot]
            start, end = result.start - base, result.end - base
            if end > len(texts[index]):  # pragma: no cover - recognizers stop at SEPARATOR
                continue
            found[index].append(DetectedEntity(result.entity_type, start, end, result.score))

    def analyze(self, text: str, language: str) -> list[RecognizerFinding]:
        """presidio's `AnalyzerEngine.analyze(text, language, entities=ENTITY_TYPES,
        score_threshold=self.score_threshold)` over our parts (presidio-analyzer 2.2,
        `analyzer_engine.py`), step by step; the order is presidio's too.

        Left out because this configuration never uses them: recognizer loading (ours
        load nothing), the entity filter (every recognizer reports one of
        `ENTITY_TYPES`, checked at build), per-recognizer `enhance_using_context` (the
        base returns its input and none of ours overrides it), allow lists, ad-hoc
        recognizers, decision-process tracing.
        """
        recognizers = self._recognizers.get(language, ())
        artifacts = self.nlp_engine.process_text(text, language)
        results = [finding for recognizer in recognizers for finding in recognizer.analyze(text)]
        results = self.enhancer.enhance(results, artifacts, self._by_id.get(language, {}))
        # An explicit threshold applies to every result (presidio's `__remove_low_scores`),
        # before duplicates collapse.
        results = [result for result in results if result.score >= self.score_threshold]
        return remove_duplicates(results)


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
    """The detector for `zh` and `en` with our recognizers only; loads no model.

    presidio's predefined recognizers are not used (several need a spaCy model, and
    none knows mainland formats); the NLP engine is the model-free `TokenNlpEngine`.
    Imports no presidio: `masking.detection.presidio.build_analyzer_engine(detector)`
    gives presidio's engine over these parts to those who want it.
    """
    quiet_libraries()
    initialize_jieba()
    detector = PiiDetector(
        (
            recognizer_class(language)
            for language in LANGUAGES
            for recognizer_class in RECOGNIZER_CLASSES
        ),
        nlp_engine=TokenNlpEngine(LANGUAGES),
        enhancer=WindowContextEnhancer(),
        score_threshold=score_threshold,
    )
    detector.detect_many(_WARM_UP)  # first-call costs (jieba's tagger) paid here
    return detector
