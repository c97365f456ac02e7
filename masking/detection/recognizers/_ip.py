"""IPv4 and IPv6 addresses, validated by the standard library's `ipaddress`."""

from __future__ import annotations

import ipaddress
import re

from masking.detection.recognizers._base import RegexRecognizer, labelled_as

__all__ = ["IpAddressRecognizer"]

# "版本1.2.3.4", "v2.10.0.1": dotted version numbers that happen to be valid IPv4.
_VERSION_LABEL = re.compile(
    r"(?:版本号?|(?<![A-Za-z])(?:version|ver\.?|v))\s*[:：]?\s*$", re.IGNORECASE
)


class IpAddressRecognizer(RegexRecognizer):
    ENTITY = "IP_ADDRESS"
    CONTEXT = ("ip", "地址", "登录", "登陆", "访问", "服务器", "host", "server", "address", "login")
    PATTERN = re.compile(
        r"(?<![0-9A-Za-z.])(?P<v4>(?:\d{1,3}\.){3}\d{1,3})(?![0-9A-Za-z]|\.\d)"
        r"|(?<![0-9A-Za-z:.])(?P<v6>(?:[0-9A-Fa-f]{0,4}:){2,7}"
        r"(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?)(?![0-9A-Za-z:.])"
    )

    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        value = text[start:end]
        try:
            if match["v4"] is not None:
                ipaddress.IPv4Address(value)
                return None if labelled_as(_VERSION_LABEL, text, start) else 0.6
            ipaddress.IPv6Address(value)
        except ValueError:
            return None
        return 0.7
