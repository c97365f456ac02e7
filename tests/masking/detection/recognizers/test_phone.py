"""Mobile and landline numbers, validated by phonenumbers for region CN."""

import random

import phonenumbers
import pytest

from masking.detection import PiiDetector
from masking.detection.recognizers._phone import _FIXED_TYPES, _MOBILE_TYPES, _cn_number_type
from tests.helpers.detection import found, values_of


@pytest.mark.parametrize(
    "number", ["13912345678", "139 1234 5678", "139-1234-5678", "+86 13912345678", "+8613912345678"]
)
def test_given_mobile_in_its_written_forms_then_whole_number_is_the_span(
    detector: PiiDetector, number: str
) -> None:
    assert values_of(detector, f"客户手机{number}，请回电。", "CN_MOBILE") == [number]


def test_given_mobile_glued_to_chinese_text_then_found(detector: PiiDetector) -> None:
    # No spaces and no \b between 号 and 1: the recognizer uses lookarounds.
    text = "客户王建国来电，手机号13912345678收不到验证码"
    assert ("CN_MOBILE", "13912345678") in found(detector, text)


def test_given_mobile_in_english_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, "Call me on 13812345678 tomorrow.", "CN_MOBILE") == ["13812345678"]


@pytest.mark.parametrize("number", ["10012345678", "12345678901", "11912345678"])
def test_given_eleven_digits_that_are_no_mobile_then_not_reported(
    detector: PiiDetector, number: str
) -> None:
    assert detector.detect(f"来电显示{number}，为系统号码。") == []


def test_given_mobile_inside_longer_digit_run_then_not_reported(detector: PiiDetector) -> None:
    assert detector.detect("时间戳1391234567890") == []


def test_given_order_number_label_then_not_reported(detector: PiiDetector) -> None:
    assert detector.detect("订单号：13912345678") == []
    assert detector.detect("Order no. 13912345678 shipped") == []


@pytest.mark.parametrize(
    "number", ["010-62345678", "0755-26123456", "(021)62345678", "0571 87654321"]
)
def test_given_landline_with_area_code_then_found(detector: PiiDetector, number: str) -> None:
    assert values_of(detector, f"办公室座机{number}，工作日可联系", "CN_LANDLINE") == [number]


def test_given_compact_landline_then_reported_only_with_context(detector: PiiDetector) -> None:
    assert values_of(detector, "座机01062345678", "CN_LANDLINE") == ["01062345678"]
    assert values_of(detector, "批次01062345678", "CN_LANDLINE") == []


def test_given_invalid_area_code_then_not_reported(detector: PiiDetector) -> None:
    assert values_of(detector, "电话010-1234567", "CN_LANDLINE") == []  # 010 numbers have 8 digits


def test_phone_types_agree_with_phonenumbers_parse() -> None:
    # The recognizer decides with phonenumbers' CN metadata directly (faster than
    # parse + number_type); on random candidates both must take the same decision.
    # The shapes the patterns let through: 11 digits 13-19..., or 0 + 9-11 digits.
    rng = random.Random(2024)
    for _ in range(20000):
        if rng.random() < 0.5:
            national = f"1{rng.randint(3, 9)}" + "".join(rng.choice("0123456789") for _ in range(9))
        else:
            national = f"0{rng.randint(1, 9)}" + "".join(
                rng.choice("0123456789") for _ in range(rng.choice((8, 9, 10)))
            )
        try:
            parsed = phonenumbers.parse(national, "CN")
        except phonenumbers.NumberParseException:
            expected = None  # e.g. "12..." read as an international dialling prefix
        else:
            valid = phonenumbers.is_valid_number_for_region(parsed, "CN")
            expected = phonenumbers.number_type(parsed) if valid else None
        got = _cn_number_type(national)
        assert (expected in _MOBILE_TYPES) == (got in _MOBILE_TYPES), national
        assert (expected in _FIXED_TYPES) == (got in _FIXED_TYPES), national
