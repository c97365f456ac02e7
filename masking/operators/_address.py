"""Chinese postal addresses: keep the administrative prefix, mask the rest.

The prefix is read level by level — province, prefecture, county — from the start of
the address. Whatever follows the deepest level kept (town, street, building, room)
becomes `replacement`. An address with no recognizable prefix is fully redacted.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from masking.errors import InvalidOperatorConfigError
from masking.operators._base import MaskingOperator
from masking.operators._config import MaskConfig

__all__ = ["AddressConfig", "AddressMask"]

AddressLevel = Literal["province", "city", "district"]

# A place-name character: a Han character that is not itself a level marker, so one
# level cannot swallow the next ("朝阳区朝阳市场" is not a city named 朝阳区朝阳).
_NAME = r"(?:(?![省市区县旗盟])[\u4e00-\u9fff])"

_PROVINCE = (
    r"(?:内蒙古自治区|广西壮族自治区|西藏自治区|宁夏回族自治区|新疆维吾尔自治区"
    r"|香港特别行政区|澳门特别行政区|(?:北京|天津|上海|重庆)市?"
    rf"|{_NAME}{{2,3}}省)"
)
_CITY = rf"(?:{_NAME}{{2,12}}?自治州|{_NAME}{{2,8}}?地区|{_NAME}{{2,6}}?盟|{_NAME}{{1,6}}?市)"
# County level: districts, counties, banners and county-level cities; a few real
# district names contain a marker character and are listed whole.
_DISTRICT = (
    r"(?:市中区|市北区|市南区|新市区"
    rf"|{_NAME}{{2,12}}?自治[县旗]|{_NAME}{{1,8}}?旗|{_NAME}{{1,6}}?[区县市])"
)

_PREFIX = re.compile(
    rf"(?:中华人民共和国|中国)?(?P<province>{_PROVINCE})?(?P<city>{_CITY})?(?P<district>{_DISTRICT})?"
)
_WHITESPACE = re.compile(r"\s+")
_LEVELS: dict[AddressLevel, tuple[str, ...]] = {
    "province": ("province",),
    "city": ("province", "city"),
    "district": ("province", "city", "district"),
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class AddressConfig(MaskConfig):
    """`北京市朝阳区****`; `keep` is the deepest level left visible."""

    keep: AddressLevel = "district"
    replacement: str = "****"

    def check(self) -> None:
        if not self.replacement:
            msg = "replacement must not be empty"
            raise InvalidOperatorConfigError(msg)


class AddressMask(MaskingOperator[AddressConfig]):
    """Keep province / city / district as configured; never the street part."""

    name = "address"
    config_model = AddressConfig

    def mask(self, value: str, config: AddressConfig) -> str:
        if not value:
            return value
        match = _PREFIX.match(_WHITESPACE.sub("", value))
        if match is None:  # pragma: no cover - every group is optional
            return config.replacement
        kept = "".join(match[level] or "" for level in _LEVELS[config.keep])
        return kept + config.replacement
