"""Mainland vehicle plates, including the 8-character new-energy plates."""

from __future__ import annotations

import re

from masking.detection.recognizers._base import RegexRecognizer

__all__ = ["VehiclePlateRecognizer"]

# One-character abbreviations of the 31 mainland provincial divisions.
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"  # serials skip I and O
_OFFICE = "A-HJ-Z"  # the issuing-office letter skips I; O marks police vehicles
_MAX_SERIAL_LETTERS = 2


class VehiclePlateRecognizer(RegexRecognizer):
    """Province + issuing-office letter + 5 characters (at most two letters), or + 6
    for new-energy plates (D/F first for small cars, last for large vehicles); an
    optional middle dot is allowed; trailer, learner, police, Hong Kong and Macao plates
    end in 挂/学/警/港/澳 after four serial characters (or five)."""

    ENTITY = "CN_VEHICLE_PLATE"
    CONTEXT = ("车牌", "车辆", "车号", "牌照", "号牌", "开车", "停车", "plate", "vehicle", "car")
    PATTERN = re.compile(
        rf"(?<![0-9A-Za-z])[{_PROVINCES}][{_OFFICE}][·• ]?"
        rf"(?:(?P<nev>[DF][{_LETTER}0-9]\d{{4}}|\d{{5}}[DF])"
        rf"|(?P<serial>[{_LETTER}0-9]{{5}})[挂学警港澳]?"
        rf"|(?P<short>[{_LETTER}0-9]{{4}})[挂学警港澳])"
        r"(?![0-9A-Za-z])"
    )

    def score(self, text: str, match: re.Match[str], start: int, end: int) -> float | None:
        serial = match["serial"] or match["short"]
        if serial is not None and sum(c.isalpha() for c in serial) > _MAX_SERIAL_LETTERS:
            return None
        return 0.6
