"""presidio's `AnalyzerEngine` over our parts finds exactly what `PiiDetector` finds.

`PiiDetector.analyze` reproduces `AnalyzerEngine.analyze` for our configuration so the
serving path need not import presidio; these tests hold the two to the same findings
(type, span, score) on the synthetic corpus of `bench.pii` (Chinese and English, with
context words and near misses), on the batch texts of test_detector (context at the end
of a neighbour, separators), on chunks as `detect_many` joins them, and on overlapping
findings; and hold our context rule to presidio's own `LemmaContextAwareEnhancer`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from stdnum import luhn

from bench.pii._corpus import generate
from masking.detection import ENTITY_TYPES, PiiDetector, RecognizerFinding
from masking.detection._detector import _chunks
from masking.detection._result import remove_duplicates
from masking.detection._text import SEPARATOR
from masking.detection.presidio import (
    PresidioRecognizer,
    PresidioTokenArtifacts,
    build_analyzer_engine,
)
from masking.detection.recognizers import WardgateRecognizer
from tests.helpers.detection import resident_id, with_luhn
from tests.masking.detection.test_detector import MIXED, NOTE

Key = tuple[str, int, int, float]

# Overlaps on purpose: an 18-digit resident ID that also passes Luhn (a card), a
# mobile inside a longer digit run, an address holding a name, a plate in an address.
ID_AND_CARD = next(
    rid
    for n in range(1000)
    if (rid := resident_id(f"11010519491231{n:03d}"))[-1] != "X" and luhn.is_valid(rid)
)
OVERLAPS = [
    f"银行卡{ID_AND_CARD}，身份证{ID_AND_CARD}",
    f"卡号{with_luhn('62220212345678901')}，手机13912345678",
    "收货地址：上海市浦东新区王建国路18号，联系人王建国",
    "车牌京A12345停在北京市朝阳区建国路88号",
    "订单号13912345678，手机13912345678。",
]


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str]]:
    samples = generate(400, 150, 20240601)
    return [(s.language, s.text) for s in samples]


@pytest.fixture(scope="module")
def unthresholded(detector: PiiDetector) -> PiiDetector:
    """The same parts with no score threshold: every finding, weak ones too, compared."""
    return PiiDetector(
        (r for language in ("zh", "en") for r in detector.recognizers(language)),
        nlp_engine=detector.nlp_engine,
        enhancer=detector.enhancer,
        score_threshold=0.0,
    )


def ours(detector: PiiDetector, text: str, language: str) -> list[Key]:
    return sorted(
        (f.entity_type, f.start, f.end, f.score) for f in detector.analyze(text, language)
    )


def presidios(engine: AnalyzerEngine, detector: PiiDetector, text: str, language: str) -> list[Key]:
    results = engine.analyze(
        text=text,
        language=language,
        entities=list(ENTITY_TYPES),
        score_threshold=detector.score_threshold,
    )
    return sorted((r.entity_type, r.start, r.end, r.score) for r in results)


def texts_to_compare(corpus: list[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    yield from corpus
    for language in ("zh", "en"):
        yield from ((language, text) for text in (*MIXED, *OVERLAPS, NOTE))
        # Chunks exactly as detect_many joins them: findings at chunk and text edges.
        texts = [text for lang, text in corpus if lang == language] + MIXED
        for chunk in _chunks(texts, list(range(len(texts)))):
            yield language, SEPARATOR.join(texts[index] for index in chunk)


@pytest.mark.parametrize("threshold", ["default", "none"])
def test_given_corpus_then_presidio_engine_finds_exactly_what_the_detector_finds(
    detector: PiiDetector,
    unthresholded: PiiDetector,
    corpus: list[tuple[str, str]],
    threshold: str,
) -> None:
    subject = detector if threshold == "default" else unthresholded
    engine = build_analyzer_engine(subject)
    compared = findings = 0
    for language, text in texts_to_compare(corpus):
        expected = presidios(engine, subject, text, language)
        assert ours(subject, text, language) == expected, text
        compared += 1
        findings += len(expected)
    # The comparison is not vacuous: many texts, many findings, context-raised and
    # (without the threshold) weak ones among them.
    assert compared > 550
    assert findings > 1500


def test_given_corpus_then_context_raises_scores_the_same_way(
    unthresholded: PiiDetector, corpus: list[tuple[str, str]]
) -> None:
    """Findings whose score context changed exist in the corpus, so the equality
    above covers the context rule, not only the recognizers."""
    raised = 0
    for language, text in corpus:
        raw = {
            (f.entity_type, f.start, f.end): f.score
            for r in unthresholded.recognizers(language)
            for f in r.analyze(text)
        }
        for finding in unthresholded.analyze(text, language):
            raised += finding.score > raw[(finding.entity_type, finding.start, finding.end)]
    assert raised > 100


def test_given_overlapping_findings_then_both_engines_keep_the_same(
    unthresholded: PiiDetector, corpus: list[tuple[str, str]]
) -> None:
    engine = build_analyzer_engine(unthresholded)
    overlapping = 0
    for language, text in [*corpus, *(("zh", text) for text in OVERLAPS)]:
        kept = sorted(unthresholded.analyze(text, language), key=lambda f: (f.start, f.end))
        if any(a.end > b.start for a, b in itertools.pairwise(kept)):
            overlapping += 1
            assert ours(unthresholded, text, language) == presidios(
                engine, unthresholded, text, language
            )
    # Findings of different types overlap in the corpus (a plate and a name, a credit
    # code and a card...): duplicate removal works per type and leaves them to
    # resolve_overlaps, in both engines.
    assert overlapping >= 5


_results = st.builds(
    lambda entity, start, length, score, rid: (entity, start, start + length, score, rid),
    st.sampled_from(["CN_MOBILE", "BANK_CARD", "PERSON"]),
    st.integers(0, 30),
    st.integers(0, 12),
    st.sampled_from([0.0, 0.3, 0.5, 0.85, 1.0]),
    st.sampled_from(["a", "b"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_results, max_size=14))
def test_given_any_findings_then_remove_duplicates_equals_presidios(
    findings: list[tuple[str, int, int, float, str]],
) -> None:
    """Equal, zero-score and contained findings: the corpus has few, so random ones."""
    mine = remove_duplicates(RecognizerFinding(*f) for f in findings)
    theirs = EntityRecognizer.remove_duplicates(
        [
            RecognizerResult(t, start, end, score, recognition_metadata={"id": rid})
            for t, start, end, score, rid in findings
        ]
    )
    # presidio's order among findings equal in (score, start, length) comes from a set.
    assert sorted((f.entity_type, f.start, f.end, f.score) for f in mine) == sorted(
        (r.entity_type, r.start, r.end, r.score) for r in theirs
    )
    assert [(f.score, f.start, f.start - f.end) for f in mine] == [
        (r.score, r.start, r.start - r.end) for r in theirs
    ]


def test_given_engine_then_it_holds_our_recognizers_parts_and_threshold(
    detector: PiiDetector,
) -> None:
    engine = build_analyzer_engine(detector)
    assert isinstance(engine, AnalyzerEngine)
    assert engine.default_score_threshold == detector.score_threshold
    for language in ("zh", "en"):
        assert set(engine.get_supported_entities(language)) == set(ENTITY_TYPES)
        wrapped = engine.registry.get_recognizers(language, all_fields=True)
        assert all(isinstance(r, PresidioRecognizer) for r in wrapped)
        assert [r.recognizer for r in wrapped] == list(detector.recognizers(language))
        assert all(isinstance(r.recognizer, WardgateRecognizer) for r in wrapped)
        assert [r.id for r in wrapped] == [r.id for r in detector.recognizers(language)]


def _sentences(corpus: list[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    # presidio's rule knows no sentences and no window: compare where ours sees all
    # of it, one short sentence at a time.
    for language, text in corpus:
        for sentence in re.split("(?<=[。！？；!?;])", text):
            if 0 < len(sentence) <= 64:
                yield language, sentence


def test_given_presidio_lemma_enhancer_on_our_artifacts_then_same_scores_as_ours(
    unthresholded: PiiDetector, corpus: list[tuple[str, str]]
) -> None:
    """presidio's own `LemmaContextAwareEnhancer` reads our artifacts and, within one
    sentence, raises exactly the scores our `WindowContextEnhancer` raises."""
    nlp = build_analyzer_engine(unthresholded).nlp_engine
    theirs = LemmaContextAwareEnhancer()
    ours_enhancer = unthresholded.enhancer
    compared = raised = 0
    for language, sentence in _sentences(corpus):
        recognizers = unthresholded.recognizers(language)
        wrapped = [PresidioRecognizer(r) for r in recognizers]
        raw: list[RecognizerFinding] = [f for r in recognizers for f in r.analyze(sentence)]
        if not raw:
            continue
        artifacts = nlp.process_text(sentence, language)
        assert isinstance(artifacts, PresidioTokenArtifacts)
        results = [
            RecognizerResult(
                f.entity_type,
                f.start,
                f.end,
                f.score,
                # presidio's enhancer records the supportive word here
                analysis_explanation=AnalysisExplanation(f.recognizer_id, f.score),
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: f.recognizer_id,
                    RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: f.context_applied,
                },
            )
            for f in raw
        ]
        presidio_scores = [
            r.score
            for r in theirs.enhance_using_context(sentence, results, artifacts, wrapped, None)
        ]
        our_scores = [
            f.score for f in ours_enhancer.enhance(raw, artifacts, {r.id: r for r in recognizers})
        ]
        assert our_scores == presidio_scores, sentence
        compared += len(raw)
        raised += sum(new > f.score for new, f in zip(our_scores, raw, strict=True))
    assert compared > 500
    assert raised > 50
