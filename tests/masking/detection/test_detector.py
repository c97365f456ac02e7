"""`PiiDetector`: the typed interface, batching, offsets, threads, offline build."""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from masking.detection import (
    CHUNK_CHARS,
    ENTITY_CATEGORY,
    ENTITY_TYPES,
    DetectedEntity,
    PiiDetector,
    UnsupportedLanguageError,
    build_detector,
)
from masking.detection._text import SEPARATOR
from masking.detection.recognizers import WardgateRecognizer
from tests.helpers.detection import found, resident_id, with_luhn

ID = resident_id("11010519491231002")
NOTE = f"客户王建国来电，手机13912345678，身份证{ID}，地址北京市朝阳区建国路88号。"

# Texts chosen to tempt a batch into leaking between neighbours: a context word at
# the end of one text and a number that needs context at the start of the next, a
# lead word at the end and a name at the start, empty texts, the separator itself.
MIXED = [
    NOTE,
    "",
    "客户要求退款至银行卡",
    with_luhn("202403151234567"),
    "已通知",
    "王建国明天到店。",
    "Mr. John Smith, phone +86 139 1234 5678, mail john.smith@example.com.",
    "Dear",
    "Emily, thanks.",
    f"含分隔符{SEPARATOR}王建国来电",
    "收件人",
    "李伟，电话010-62345678",
    "无个人信息的普通备注。",
]


def test_given_note_then_entities_sorted_non_overlapping_with_exact_offsets(
    detector: PiiDetector,
) -> None:
    entities = detector.detect(NOTE)
    assert [(e.entity_type, NOTE[e.start : e.end]) for e in entities] == [
        ("PERSON", "王建国"),
        ("CN_MOBILE", "13912345678"),
        ("CN_RESIDENT_ID", ID),
        ("CN_ADDRESS", "北京市朝阳区建国路88号"),
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(entities))
    assert all(0.5 <= e.score <= 1.0 for e in entities)


def test_given_batch_then_each_result_equals_detect_alone(detector: PiiDetector) -> None:
    assert detector.detect_many(MIXED) == [detector.detect(text) for text in MIXED]


def test_given_context_word_at_end_of_previous_text_then_it_does_not_count(
    detector: PiiDetector,
) -> None:
    number = with_luhn("202403151234567")  # a card only with a context word
    assert detector.detect(f"客户要求退款至银行卡{number}")  # context in its own text counts
    assert detector.detect_many(["客户要求退款至银行卡", number]) == [[], []]


def test_given_batch_larger_than_a_chunk_then_same_results(detector: PiiDetector) -> None:
    texts = MIXED * (3 * CHUNK_CHARS // sum(len(t) for t in MIXED) + 1)
    results = detector.detect_many(texts)
    assert results == [detector.detect(text) for text in MIXED] * (len(texts) // len(MIXED))


def test_given_text_longer_than_a_chunk_then_offsets_hold(detector: PiiDetector) -> None:
    text = "无关内容。" * (CHUNK_CHARS // 5) + NOTE
    assert found(detector, text)[-1] == ("CN_ADDRESS", "北京市朝阳区建国路88号")


def test_given_empty_text_then_empty_result(detector: PiiDetector) -> None:
    assert detector.detect("") == []
    assert detector.detect_many([]) == []


def test_given_explicit_language_then_same_recognizers(detector: PiiDetector) -> None:
    text = "Mr. Smith, 手机13912345678"
    assert detector.detect(text, language="en") == detector.detect(text, language="zh")


def test_given_unsupported_language_then_error_names_the_choices(detector: PiiDetector) -> None:
    with pytest.raises(UnsupportedLanguageError, match="zh, en"):
        detector.detect("hello", language="fr")


def test_given_threads_then_results_equal_sequential(detector: PiiDetector) -> None:
    expected = detector.detect_many(MIXED)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: detector.detect_many(MIXED), range(16)))
    assert all(result == expected for result in results)


def test_entity_types_and_categories_cover_each_other(detector: PiiDetector) -> None:
    assert set(ENTITY_CATEGORY) == set(ENTITY_TYPES) == set(detector.supported_entities)
    for language in ("zh", "en"):
        supported = {e for r in detector.recognizers(language) for e in r.supported_entities}
        assert supported == set(ENTITY_TYPES)


def test_detected_entity_is_immutable() -> None:
    entity = DetectedEntity("CN_MOBILE", 0, 11, 0.85)
    with pytest.raises(AttributeError):
        entity.start = 1  # type: ignore[misc]


def test_given_no_network_and_no_model_loading_then_detector_builds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # spaCy is imported here only to be refused: the detector itself never imports it
    # (test_serving_imports checks that in a fresh interpreter).
    import spacy
    import spacy.cli

    def refuse(*args: object, **kwargs: object) -> None:
        msg = "the detector must not load a model or open a connection"
        raise AssertionError(msg)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(spacy, "load", refuse)
    monkeypatch.setattr(spacy.cli, "download", refuse)
    detector = build_detector()
    assert isinstance(detector, PiiDetector)
    assert found(detector, NOTE)[1] == ("CN_MOBILE", "13912345678")


def test_registry_holds_only_our_recognizers(detector: PiiDetector) -> None:
    for language in ("zh", "en"):
        recognizers = detector.recognizers(language)
        assert recognizers
        assert all(isinstance(r, WardgateRecognizer) for r in recognizers)
        assert all(r.supported_language == language for r in recognizers)
        # One per class and language: the context rule finds a recognizer by its id.
        assert len({r.id for r in recognizers}) == len(recognizers)


def test_given_context_word_then_score_is_raised(detector: PiiDetector) -> None:
    [plain] = detector.detect("13912345678")
    [with_context] = detector.detect("手机13912345678")
    assert with_context.score > plain.score


def test_given_logging_that_lets_everything_through_then_building_logs_no_library_noise() -> None:
    """A fresh process whose root logger takes DEBUG (Litestar's default configuration
    takes INFO, as under plain `uvicorn gateway.app:...`): building the detector and
    the presidio adapters logs nothing below WARNING from presidio or jieba (their
    dictionary and recognizer loading included)."""
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,"
        " format='LOG %(levelname)s %(name)s %(message)s')\n"
        "from masking.detection import build_detector\n"
        "detector = build_detector()\n"
        # and the presidio adapters, whose imports and builds are what logs at INFO
        "from masking.detection.presidio import build_analyzer_engine\n"
        "build_analyzer_engine(detector)\n"
        "from masking import build_anonymizer_engine\n"
        "build_anonymizer_engine()\n"
        "logging.getLogger('probe').info('root takes INFO')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    lines = done.stderr.splitlines()
    assert "LOG INFO probe root takes INFO" in lines, "the root logger did let INFO through"
    noise = [
        line
        for line in lines
        if line != "LOG INFO probe root takes INFO"
        and not line.startswith(("LOG WARNING", "LOG ERROR", "LOG CRITICAL"))
    ]
    assert noise == []
