"""Bank cards: Luhn check, issuer ranges, context."""

import pytest

from masking.detection import PiiDetector
from tests.helpers.detection import resident_id, values_of, with_luhn, wrong_last

UNIONPAY_19 = with_luhn("622202123456789012")
VISA_16 = with_luhn("411111111111111")


@pytest.mark.parametrize("card", [UNIONPAY_19, VISA_16])
def test_given_luhn_valid_card_then_found(detector: PiiDetector, card: str) -> None:
    assert values_of(detector, f"客户要求退款至银行卡{card}，已转财务处理。", "BANK_CARD") == [card]


def test_given_card_without_context_in_known_issuer_range_then_found(
    detector: PiiDetector,
) -> None:
    assert values_of(detector, f"已处理：{UNIONPAY_19}。", "BANK_CARD") == [UNIONPAY_19]


def test_given_grouped_card_then_span_covers_all_groups(detector: PiiDetector) -> None:
    grouped = " ".join(VISA_16[i : i + 4] for i in range(0, 16, 4))
    assert values_of(detector, f"card number {grouped}.", "BANK_CARD") == [grouped]


def test_given_wrong_luhn_digit_then_not_reported(detector: PiiDetector) -> None:
    assert detector.detect(f"卡号{wrong_last(UNIONPAY_19)}校验不通过") == []


def test_given_luhn_valid_number_outside_issuer_ranges_then_needs_context(
    detector: PiiDetector,
) -> None:
    number = with_luhn("202403151234567")  # 16 digits, starts like a date
    assert values_of(detector, f"编码{number}", "BANK_CARD") == []
    assert values_of(detector, f"银行卡号{number}", "BANK_CARD") == [number]


def test_given_order_number_label_then_not_a_card(detector: PiiDetector) -> None:
    assert values_of(detector, f"订单号{UNIONPAY_19}已发货", "BANK_CARD") == []


def test_given_resident_id_that_passes_luhn_then_it_is_an_id(detector: PiiDetector) -> None:
    ids = (resident_id(f"44030419900307{n:03d}") for n in range(1000))
    luhn_valid = next(i for i in ids if with_luhn(i[:-1]) == i)
    assert [e.entity_type for e in detector.detect(f"卡号{luhn_valid}")] == ["CN_RESIDENT_ID"]


def test_given_mistyped_resident_id_that_passes_luhn_then_not_a_card(
    detector: PiiDetector,
) -> None:
    # A real area and birth date with a wrong check digit is a mistyped ID, not a card.
    candidates = (with_luhn(f"44030419900307{n:03d}") for n in range(1000))
    mistyped = next(c for c in candidates if resident_id(c[:17]) != c)
    assert detector.detect(f"退款银行卡{mistyped}") == []


def test_given_id_label_then_a_luhn_valid_number_is_not_a_card(detector: PiiDetector) -> None:
    # 30 February: no valid ID either, but the label says what the number is.
    candidates = (with_luhn(f"46010819690230{n:03d}") for n in range(1000))
    number = next(candidates)
    assert detector.detect(f"证件号{number}无效，已退回。") == []


def test_given_word_ending_in_id_then_still_a_card(detector: PiiDetector) -> None:
    assert values_of(detector, f"Paid {UNIONPAY_19} via card", "BANK_CARD") == [UNIONPAY_19]
    assert values_of(detector, f"ID number {UNIONPAY_19}", "BANK_CARD") == []
