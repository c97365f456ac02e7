"""Closed sets of values: region, tier, channel, satisfaction rating."""

from __future__ import annotations

from collections.abc import Callable

from policies.formats._common import require_str
from policies.formats._errors import FieldInvalid

# The 34 province-level divisions, full official names, in GB/T 2260 code order.
REGIONS: tuple[str, ...] = (
    "北京市",
    "天津市",
    "河北省",
    "山西省",
    "内蒙古自治区",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "上海市",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "广西壮族自治区",
    "海南省",
    "重庆市",
    "四川省",
    "贵州省",
    "云南省",
    "西藏自治区",
    "陕西省",
    "甘肃省",
    "青海省",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "台湾省",
    "香港特别行政区",
    "澳门特别行政区",
)
TIERS: tuple[str, ...] = ("standard", "silver", "gold", "platinum")
CHANNELS: tuple[str, ...] = ("phone", "web", "app", "store", "wechat", "email")

RATING_MIN = 1
RATING_MAX = 5


def _choice_validator(choices: tuple[str, ...]) -> Callable[[object], str]:
    allowed = frozenset(choices)

    def validate_choice(value: object) -> str:
        # Exact match: these values are policy keys (analytics, segments), so
        # "Gold" or " gold" must not become a second spelling.
        text = require_str(value)
        if text not in allowed:
            raise FieldInvalid("invalid_choice")
        return text

    return validate_choice


validate_region = _choice_validator(REGIONS)
validate_tier = _choice_validator(TIERS)
validate_channel = _choice_validator(CHANNELS)


def validate_rating(value: object) -> int:
    """A satisfaction rating, an integer from 1 to 5."""
    # bool is an int subclass, but `true` is not a rating.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldInvalid("invalid_type")
    # A float is the right JSON type but not an integer rating, even 5.0.
    if isinstance(value, float) or not RATING_MIN <= value <= RATING_MAX:
        raise FieldInvalid("invalid_rating")
    return value
