"""Passports and travel permits: no check digit, so context decides."""

import pytest

from masking.detection import PiiDetector
from tests.helpers.detection import values_of


@pytest.mark.parametrize(
    "number", ["E12345678", "EA1234567", "G12345678", "DE1234567", "SE1234567", "PE1234567"]
)
def test_given_passport_forms_after_context_word_then_found(
    detector: PiiDetector, number: str
) -> None:
    assert values_of(detector, f"客户持护照{number}办理实名认证。", "CN_PASSPORT") == [number]


def test_given_passport_in_english_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, "Passport E12345678 verified.", "CN_PASSPORT") == ["E12345678"]


def test_given_passport_shaped_code_without_context_then_not_reported(
    detector: PiiDetector,
) -> None:
    assert detector.detect("商品型号E12345678已下架。") == []


def test_given_letter_i_or_o_after_e_then_not_a_passport(detector: PiiDetector) -> None:
    assert values_of(detector, "护照EI1234567", "CN_PASSPORT") == []


@pytest.mark.parametrize("number", ["H12345678", "M12345678", "H1234567890"])
def test_given_hk_macau_permit_with_context_then_found(detector: PiiDetector, number: str) -> None:
    text = f"港澳居民来往内地通行证{number}，已完成认证。"
    assert values_of(detector, text, "CN_HK_MACAU_PERMIT") == [number]


def test_given_home_return_permit_word_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, "客户使用回乡证H12345678登记", "CN_HK_MACAU_PERMIT") == ["H12345678"]


def test_given_nine_digit_h_number_then_not_a_permit(detector: PiiDetector) -> None:
    assert values_of(detector, "回乡证H123456789", "CN_HK_MACAU_PERMIT") == []


@pytest.mark.parametrize("number", ["C12345678", "CA1234567", "L12345678"])
def test_given_exit_entry_permit_with_context_then_found(
    detector: PiiDetector, number: str
) -> None:
    text = f"客户办理往来港澳通行证{number}的签注。"
    assert values_of(detector, text, "CN_EXIT_ENTRY_PERMIT") == [number]


def test_given_exit_entry_shape_without_context_then_not_reported(detector: PiiDetector) -> None:
    assert detector.detect("批次C12345678已入库") == []
