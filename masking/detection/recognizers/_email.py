"""E-mail addresses."""

from __future__ import annotations

import re

from masking.detection.recognizers._base import RegexRecognizer

__all__ = ["EmailRecognizer"]


class EmailRecognizer(RegexRecognizer):
    """An ASCII local part, `@`, and a domain with a letter-only top-level label.

    The local part is ASCII, so "邮箱zhang@example.com" starts at "z"; the match ends
    before full-width punctuation and before a sentence's closing full stop.
    """

    ENTITY = "EMAIL_ADDRESS"
    CONTEXT = ("邮箱", "邮件", "电子邮件", "email", "mail")
    PATTERN = re.compile(
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
        r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
        r"(?![A-Za-z0-9-])"
    )

    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        return 0.9
