"""Full Chinese postal addresses: province, city, district, street, number, unit."""

from __future__ import annotations

import random

from gateway.demo._regions import AREA_CUM_WEIGHTS, AREAS, Area

# No street or estate name contains 省/市/区/县/旗, so the first such marker after the
# province and city is always the district, which is what an address masker keys on.
# (Estates named 小区 are the exception on purpose: they come after the district.)
_STREETS: tuple[str, ...] = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "胜利路",
    "文化路",
    "长江路",
    "黄河路",
    "友谊路",
    "青年路",
    "滨江路",
    "学府路",
    "科技园路",
    "光明街",
    "复兴路",
    "东风路",
    "幸福路",
    "迎宾大道",
    "世纪大道",
    "公园路",
    "花园街",
    "春晖路",
    "育才路",
    "体育路",
    "金融街",
    "振兴路",
)
_ESTATES: tuple[str, ...] = (
    "阳光花园",
    "金色家园",
    "翠湖苑",
    "锦绣华庭",
    "碧水湾",
    "紫荆公寓",
    "书香门第",
    "丽景小区",
    "新村小区",
    "枫林雅居",
)


def pick_area(rng: random.Random) -> Area:
    """An area drawn with the weight of its province's population."""
    return rng.choices(AREAS, cum_weights=AREA_CUM_WEIGHTS)[0]


def street_address(rng: random.Random) -> str:
    """The part after the district, e.g. ``科技园路18号阳光花园3栋2单元1102室``."""
    street = f"{rng.choice(_STREETS)}{rng.randint(1, 999)}号"
    shape = rng.random()
    if shape < 0.55:
        floor, flat = rng.randint(1, 32), rng.randint(1, 6)
        return (
            f"{street}{rng.choice(_ESTATES)}{rng.randint(1, 30)}栋"
            f"{rng.randint(1, 4)}单元{floor}{flat:02d}室"
        )
    if shape < 0.8:
        return f"{street}{rng.randint(1, 20)}号楼{rng.randint(1, 28)}{rng.randint(1, 8):02d}室"
    return street


def full_address(rng: random.Random, area: Area) -> str:
    return area.prefix + street_address(rng)
