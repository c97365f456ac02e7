"""E-mail addresses next to Chinese text and punctuation."""

import pytest

from masking.detection import PiiDetector
from tests.helpers.detection import values_of


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("客户邮箱zhang.wei@example.com，偏好电子发票。", "zhang.wei@example.com"),
        ("发送至li_na+crm@mail.example.org。", "li_na+crm@mail.example.org"),
        ("Please mail john.smith@example.com.", "john.smith@example.com"),
        ("(wang@example.cn)", "wang@example.cn"),
    ],
)
def test_given_email_then_exact_span(detector: PiiDetector, text: str, email: str) -> None:
    assert values_of(detector, text, "EMAIL_ADDRESS") == [email]


@pytest.mark.parametrize("text", ["联系方式@客服", "user@localhost", "a@b.c", "价格@9.9元"])
def test_given_not_an_email_then_not_reported(detector: PiiDetector, text: str) -> None:
    assert values_of(detector, text, "EMAIL_ADDRESS") == []
