"""Context words: presidio's rule, bounded by sentence and by text."""

from masking.detection import PiiDetector
from tests.helpers.detection import values_of


def test_given_context_word_in_previous_sentence_then_it_does_not_count(
    detector: PiiDetector,
) -> None:
    assert values_of(detector, "商品型号E03104313已下架。", "CN_PASSPORT") == []
    assert values_of(
        detector, "客户持护照E38655356办理。商品型号E03104313已下架。", "CN_PASSPORT"
    ) == ["E38655356"]


def test_given_context_word_in_same_sentence_then_score_is_raised(detector: PiiDetector) -> None:
    assert values_of(detector, "客户持护照，号码E38655356", "CN_PASSPORT") == ["E38655356"]
