"""IPv4 and IPv6 addresses, validated by `ipaddress`."""

import pytest

from masking.detection import PiiDetector
from tests.helpers.detection import values_of


@pytest.mark.parametrize(
    "address",
    [
        "192.168.1.10",
        "8.8.8.8",
        "2001:db8::1",
        "fe80::1ff:fe23:4567:890a",
        "::1",
        "::ffff:10.0.0.1",
    ],
)
def test_given_ip_then_found(detector: PiiDetector, address: str) -> None:
    assert values_of(detector, f"异常登录IP：{address}，已提醒客户", "IP_ADDRESS") == [address]


def test_given_ip_in_english_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, "Server 10.0.0.7 returned an error.", "IP_ADDRESS") == ["10.0.0.7"]


@pytest.mark.parametrize(
    "text",
    [
        "版本1.2.3.4已发布",
        "version 2.10.0.1",
        "地址256.1.1.1",
        "时间10:30:00",
        "MAC 00:1a:2b:3c:4d:5e",
        "1.2.3.4.5",
    ],
)
def test_given_ip_lookalike_then_not_reported(detector: PiiDetector, text: str) -> None:
    assert values_of(detector, text, "IP_ADDRESS") == []
