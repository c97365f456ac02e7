"""Overlapping findings of different types: one survives."""

from masking.detection import DetectedEntity
from masking.detection._overlaps import resolve_overlaps


def test_given_overlap_then_higher_score_wins() -> None:
    low = DetectedEntity("PERSON", 0, 3, 0.75)
    high = DetectedEntity("CN_ADDRESS", 2, 10, 0.95)
    assert resolve_overlaps([low, high]) == [high]


def test_given_equal_scores_then_stronger_type_wins() -> None:
    card = DetectedEntity("BANK_CARD", 0, 18, 1.0)
    resident_id = DetectedEntity("CN_RESIDENT_ID", 0, 18, 1.0)
    assert resolve_overlaps([card, resident_id]) == [resident_id]


def test_given_disjoint_findings_then_all_kept_sorted_by_start() -> None:
    a = DetectedEntity("PERSON", 10, 13, 0.75)
    b = DetectedEntity("CN_MOBILE", 0, 11 - 2, 0.85)
    c = DetectedEntity("EMAIL_ADDRESS", 13, 30, 0.9)
    assert resolve_overlaps([a, c, b]) == [b, a, c]


def test_given_touching_spans_then_both_kept() -> None:
    a = DetectedEntity("PERSON", 0, 3, 0.85)
    b = DetectedEntity("CN_MOBILE", 3, 14, 0.85)
    assert resolve_overlaps([b, a]) == [a, b]
