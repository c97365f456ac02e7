"""Resident ID numbers: GB 11643 check character and a real birth date."""

import datetime as dt

from masking.detection import PiiDetector
from masking.detection.recognizers._resident_id import is_valid_resident_id
from tests.helpers.detection import resident_id, values_of, wrong_last

VALID = resident_id("11010519491231002")  # 11010519491231002X
VALID_DIGIT = resident_id("44030419900307123")


def test_given_valid_id_in_chinese_sentence_then_found_with_exact_span(
    detector: PiiDetector,
) -> None:
    text = f"客户提供身份证{VALID_DIGIT}用于开具发票。"
    entities = detector.detect(text)
    assert [(e.entity_type, text[e.start : e.end]) for e in entities] == [
        ("CN_RESIDENT_ID", VALID_DIGIT)
    ]


def test_given_check_character_x_in_lower_case_then_found(detector: PiiDetector) -> None:
    value = VALID.lower()
    assert values_of(detector, f"证件号{value}，已核验", "CN_RESIDENT_ID") == [value]


def test_given_id_in_english_sentence_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, f"ID number {VALID} on file.", "CN_RESIDENT_ID") == [VALID]


def test_given_wrong_check_character_then_not_reported(detector: PiiDetector) -> None:
    bad = wrong_last(VALID_DIGIT, "0123456789X")
    assert values_of(detector, f"身份证号{bad}校验失败", "CN_RESIDENT_ID") == []
    assert detector.detect(f"身份证号{bad}校验失败") == []


def test_given_impossible_birth_date_then_not_reported(detector: PiiDetector) -> None:
    bad = resident_id("11010519900230123")  # 30 February, correct check character
    assert detector.detect(f"身份证{bad}") == []


def test_given_unknown_area_code_then_not_reported(detector: PiiDetector) -> None:
    # 119999 is a Beijing-looking code that no county ever had (stdnum raises KeyError
    # for such codes in is_valid; the recognizer must neither crash nor report it).
    assert detector.detect(f"身份证{resident_id('11999919900307123')}") == []


def test_given_id_inside_a_longer_digit_run_then_not_reported(detector: PiiDetector) -> None:
    assert values_of(detector, f"流水9{VALID_DIGIT}1", "CN_RESIDENT_ID") == []


def test_given_order_number_label_then_not_reported(detector: PiiDetector) -> None:
    assert values_of(detector, f"订单号：{VALID_DIGIT}", "CN_RESIDENT_ID") == []


def test_given_holder_older_than_their_district_then_found(detector: PiiDetector) -> None:
    # Pudong (310115) exists since 1993; people born before hold IDs with its code.
    # stdnum's is_valid refuses them, the gateway's write validation does not.
    value = resident_id("31011519800307123")
    assert values_of(detector, f"身份证{value}", "CN_RESIDENT_ID") == [value]


def test_given_hong_kong_residence_permit_number_then_found(detector: PiiDetector) -> None:
    value = resident_id("81000019900307123")
    assert values_of(detector, f"居住证号码{value}", "CN_RESIDENT_ID") == [value]


def test_given_birth_date_in_the_future_or_before_1900_then_not_reported() -> None:
    today = dt.date(2024, 6, 1)
    assert is_valid_resident_id(resident_id("11010519900307123"), today=today)
    assert not is_valid_resident_id(resident_id("11010520240602123"), today=today)
    assert not is_valid_resident_id(resident_id("11010518991231123"), today=today)
