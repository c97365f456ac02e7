"""Unified Social Credit Codes: GB 32100 check character, authorities A/N/Y too."""

import pytest

from masking.detection import PiiDetector
from masking.detection.recognizers import is_valid_uscc
from tests.helpers.detection import credit_code, values_of, wrong_last

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Organisation code MA01C0011 is GB 11714-valid (weights 3,7,9,10,5,8,4,2).
COMPANY = credit_code("91110108MA01C0011")
AGRICULTURE = credit_code("N2110108MA01C0011")


def test_given_valid_code_then_found(detector: PiiDetector) -> None:
    text = f"企业客户统一社会信用代码{COMPANY}，开票抬头已更新。"
    assert values_of(detector, text, "CN_USCC") == [COMPANY]


@pytest.mark.parametrize("authority", ["A", "N", "Y"])
def test_given_letter_registration_authority_then_valid(authority: str) -> None:
    # python-stdnum's uscc.validate rejects these; GB 32100 allows them.
    assert is_valid_uscc(credit_code(f"{authority}1110108MA01C0011"))


def test_given_agriculture_authority_code_in_text_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, f"合作社信用代码{AGRICULTURE}", "CN_USCC") == [AGRICULTURE]


def test_given_wrong_check_character_then_not_reported(detector: PiiDetector) -> None:
    assert values_of(detector, f"信用代码{wrong_last(COMPANY, _ALPHABET)}", "CN_USCC") == []


def test_given_unknown_area_code_then_not_reported(detector: PiiDetector) -> None:
    assert values_of(detector, f"信用代码{credit_code('91999999MA01C0011')}", "CN_USCC") == []


def test_given_letters_outside_the_alphabet_then_invalid() -> None:
    assert not is_valid_uscc("91110108MA01C0I15X")
    assert not is_valid_uscc(COMPANY[:-1])


def test_given_code_in_english_sentence_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, f"Company credit code {COMPANY} on file.", "CN_USCC") == [COMPANY]
