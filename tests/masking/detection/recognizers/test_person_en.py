"""English names: titles, labels, verbs."""

import pytest

from masking.detection import PiiDetector
from tests.helpers.detection import values_of


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Mr. Smith requested a refund.", ["Smith"]),
        ("Dear Mr. John Smith, thank you.", ["John Smith"]),
        ("Customer Jane Doe called about her order.", ["Jane Doe"]),
        ("Name: Wang Jianguo, phone on file.", ["Wang Jianguo"]),
        ("Dear Emily, your refund is processed.", ["Emily"]),
        ("Mary O'Brien called twice.", ["Mary O'Brien"]),
        ("Spoke with Robert McDonald regarding the invoice.", ["Robert McDonald"]),
        ("Regards, Anna Lee", ["Anna Lee"]),
    ],
)
def test_given_name_with_evidence_then_found(
    detector: PiiDetector, text: str, names: list[str]
) -> None:
    assert values_of(detector, text, "PERSON") == names


@pytest.mark.parametrize(
    "text",
    [
        "The Customer Service Team will call back.",
        "Order shipped from Shanghai on Monday.",
        "Thanks, the issue was resolved.",
        "New York Office called.",
    ],
)
def test_given_capitalised_words_without_name_evidence_then_no_name(
    detector: PiiDetector, text: str
) -> None:
    assert values_of(detector, text, "PERSON") == []


def test_given_english_name_in_chinese_note_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, "客户 Mr. Smith 来电", "PERSON") == ["Smith"]
