"""Administrative areas used to place synthetic customers.

Every county-level code below appears in the GB/T 2260 table that python-stdnum ships
(``stdnum/cn/loc.dat``), so resident IDs built from it pass ``stdnum.cn.ric.is_valid``.
``since`` is the first year stdnum accepts the code under its current name; stdnum
rejects an ID whose area code did not exist in the holder's birth year, so the ID
builder needs it. ``since == 0`` means the code is valid for every birth year.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

from policies.formats import REGIONS

# The 34 province-level divisions, by their official full names: the same list the
# `region` write format accepts, so demo data always passes validation.
PROVINCE_LEVEL_NAMES: tuple[str, ...] = REGIONS

# Rough resident population in millions (2020 census), so that the demo's regional mix
# looks like a national customer base rather than a uniform spread.
_PROVINCE_WEIGHTS: dict[str, float] = {
    "北京市": 21.9,
    "天津市": 13.9,
    "河北省": 74.6,
    "山西省": 34.9,
    "内蒙古自治区": 24.0,
    "辽宁省": 42.6,
    "吉林省": 24.1,
    "黑龙江省": 31.9,
    "上海市": 24.9,
    "江苏省": 84.7,
    "浙江省": 64.6,
    "安徽省": 61.0,
    "福建省": 41.5,
    "江西省": 45.2,
    "山东省": 101.5,
    "河南省": 99.4,
    "湖北省": 57.8,
    "湖南省": 66.4,
    "广东省": 126.0,
    "广西壮族自治区": 50.1,
    "海南省": 10.1,
    "重庆市": 32.1,
    "四川省": 83.7,
    "贵州省": 38.6,
    "云南省": 47.2,
    "西藏自治区": 3.6,
    "陕西省": 39.5,
    "甘肃省": 25.0,
    "青海省": 5.9,
    "宁夏回族自治区": 7.2,
    "新疆维吾尔自治区": 25.9,
}


@dataclass(frozen=True, slots=True)
class Area:
    """A county-level division: district (区), county (县) or banner (旗)."""

    province: str
    city: str
    district: str
    code: str
    since: int

    @property
    def prefix(self) -> str:
        """The address up to and including the district, e.g. ``广东省深圳市南山区``."""
        # Municipalities have no separate city level in a written address.
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.district}"


def _areas(province: str, city: str, *districts: tuple[str, str, int]) -> list[Area]:
    return [Area(province, city, name, code, since) for code, name, since in districts]


# Mainland only: the resident ID scheme (and stdnum's table) has no county-level codes
# for Taiwan, Hong Kong or Macao, so customers there would need a different document.
# A few real edge cases are kept on purpose: 市中区/市南区 contain 市 after the city,
# 六枝特区 ends in 特区, and several units are 自治县 or 旗.
AREAS: tuple[Area, ...] = tuple(
    itertools.chain(
        _areas(
            "北京市",
            "北京市",
            ("110101", "东城区", 0),
            ("110102", "西城区", 0),
            ("110105", "朝阳区", 0),
            ("110106", "丰台区", 0),
            ("110108", "海淀区", 0),
            ("110114", "昌平区", 1999),
        ),
        _areas(
            "天津市",
            "天津市",
            ("120101", "和平区", 0),
            ("120103", "河西区", 0),
            ("120104", "南开区", 0),
            ("120116", "滨海新区", 2009),
        ),
        _areas(
            "河北省",
            "石家庄市",
            ("130102", "长安区", 1983),
            ("130104", "桥西区", 1983),
            ("130108", "裕华区", 2001),
        ),
        _areas("河北省", "唐山市", ("130202", "路南区", 1983), ("130203", "路北区", 1983)),
        _areas(
            "山西省",
            "太原市",
            ("140105", "小店区", 1997),
            ("140106", "迎泽区", 1997),
            ("140121", "清徐县", 0),
        ),
        _areas("山西省", "大同市", ("140213", "平城区", 2018)),
        _areas(
            "内蒙古自治区",
            "呼和浩特市",
            ("150102", "新城区", 1983),
            ("150105", "赛罕区", 2000),
            ("150121", "土默特左旗", 0),
        ),
        _areas("内蒙古自治区", "包头市", ("150203", "昆都仑区", 1983), ("150221", "土默特右旗", 0)),
        _areas(
            "辽宁省",
            "沈阳市",
            ("210102", "和平区", 1983),
            ("210103", "沈河区", 1983),
            ("210106", "铁西区", 1983),
        ),
        _areas(
            "辽宁省",
            "大连市",
            ("210202", "中山区", 1983),
            ("210204", "沙河口区", 1983),
            ("210224", "长海县", 0),
        ),
        _areas(
            "吉林省",
            "长春市",
            ("220102", "南关区", 1983),
            ("220104", "朝阳区", 1983),
            ("220106", "绿园区", 1995),
        ),
        _areas("吉林省", "吉林市", ("220202", "昌邑区", 1983)),
        _areas(
            "黑龙江省",
            "哈尔滨市",
            ("230102", "道里区", 1983),
            ("230103", "南岗区", 1983),
            ("230109", "松北区", 2004),
        ),
        _areas("黑龙江省", "大庆市", ("230602", "萨尔图区", 1983)),
        _areas(
            "上海市",
            "上海市",
            ("310101", "黄浦区", 0),
            ("310104", "徐汇区", 0),
            ("310105", "长宁区", 0),
            ("310106", "静安区", 0),
            ("310115", "浦东新区", 1992),
            ("310112", "闵行区", 1981),
        ),
        _areas(
            "江苏省",
            "南京市",
            ("320102", "玄武区", 1983),
            ("320104", "秦淮区", 1983),
            ("320106", "鼓楼区", 1983),
        ),
        _areas(
            "江苏省",
            "苏州市",
            ("320505", "虎丘区", 2000),
            ("320506", "吴中区", 2000),
            ("320508", "姑苏区", 2012),
        ),
        _areas("江苏省", "无锡市", ("320211", "滨湖区", 2000)),
        _areas(
            "浙江省",
            "杭州市",
            ("330106", "西湖区", 1983),
            ("330108", "滨江区", 1996),
            ("330110", "余杭区", 2001),
            ("330122", "桐庐县", 0),
        ),
        _areas("浙江省", "宁波市", ("330203", "海曙区", 1983), ("330212", "鄞州区", 2002)),
        _areas(
            "安徽省",
            "合肥市",
            ("340104", "蜀山区", 2002),
            ("340111", "包河区", 2002),
            ("340121", "长丰县", 0),
        ),
        _areas("安徽省", "芜湖市", ("340202", "镜湖区", 1983)),
        _areas(
            "福建省",
            "福州市",
            ("350102", "鼓楼区", 1983),
            ("350104", "仓山区", 1983),
            ("350121", "闽侯县", 0),
        ),
        _areas("福建省", "厦门市", ("350203", "思明区", 1983), ("350206", "湖里区", 1987)),
        _areas(
            "江西省",
            "南昌市",
            ("360102", "东湖区", 1983),
            ("360103", "西湖区", 1983),
            ("360121", "南昌县", 0),
        ),
        _areas("江西省", "九江市", ("360403", "浔阳区", 1983)),
        _areas("山东省", "济南市", ("370102", "历下区", 1983), ("370103", "市中区", 1983)),
        _areas(
            "山东省",
            "青岛市",
            ("370202", "市南区", 1983),
            ("370203", "市北区", 1983),
            ("370212", "崂山区", 1988),
        ),
        _areas("山东省", "烟台市", ("370602", "芝罘区", 1983)),
        _areas(
            "河南省",
            "郑州市",
            ("410102", "中原区", 1983),
            ("410103", "二七区", 1983),
            ("410105", "金水区", 1983),
        ),
        _areas("河南省", "洛阳市", ("410303", "西工区", 1983), ("410305", "涧西区", 1983)),
        _areas(
            "湖北省",
            "武汉市",
            ("420102", "江岸区", 1983),
            ("420106", "武昌区", 1983),
            ("420111", "洪山区", 1983),
        ),
        _areas("湖北省", "宜昌市", ("420502", "西陵区", 1986)),
        _areas(
            "湖南省",
            "长沙市",
            ("430102", "芙蓉区", 1996),
            ("430104", "岳麓区", 1996),
            ("430121", "长沙县", 0),
        ),
        _areas("湖南省", "湘潭市", ("430302", "雨湖区", 1984), ("430321", "湘潭县", 0)),
        _areas(
            "广东省",
            "广州市",
            ("440104", "越秀区", 1983),
            ("440105", "海珠区", 1983),
            ("440106", "天河区", 1985),
            ("440111", "白云区", 1987),
        ),
        _areas(
            "广东省",
            "深圳市",
            ("440304", "福田区", 1990),
            ("440305", "南山区", 1990),
            ("440306", "宝安区", 1992),
            ("440307", "龙岗区", 1992),
        ),
        _areas("广东省", "佛山市", ("440604", "禅城区", 2002), ("440606", "顺德区", 2002)),
        _areas(
            "广西壮族自治区",
            "南宁市",
            ("450103", "青秀区", 2004),
            ("450105", "江南区", 1983),
            ("450107", "西乡塘区", 2004),
        ),
        _areas("广西壮族自治区", "桂林市", ("450302", "秀峰区", 1983), ("450305", "七星区", 1983)),
        _areas(
            "海南省",
            "海口市",
            ("460105", "秀英区", 2002),
            ("460106", "龙华区", 2002),
            ("460108", "美兰区", 2002),
        ),
        _areas("海南省", "三亚市", ("460203", "吉阳区", 2014)),
        _areas(
            "重庆市",
            "重庆市",
            ("500103", "渝中区", 1997),
            ("500106", "沙坪坝区", 1997),
            ("500107", "九龙坡区", 1997),
            ("500108", "南岸区", 1997),
            ("500236", "奉节县", 1997),
        ),
        _areas(
            "四川省",
            "成都市",
            ("510104", "锦江区", 1990),
            ("510107", "武侯区", 1990),
            ("510108", "成华区", 1990),
            ("510121", "金堂县", 0),
        ),
        _areas("四川省", "绵阳市", ("510703", "涪城区", 1992)),
        _areas(
            "贵州省",
            "贵阳市",
            ("520102", "南明区", 1983),
            ("520103", "云岩区", 1983),
            ("520115", "观山湖区", 2012),
        ),
        _areas("贵州省", "遵义市", ("520302", "红花岗区", 1997)),
        _areas("贵州省", "六盘水市", ("520203", "六枝特区", 0)),
        _areas(
            "云南省",
            "昆明市",
            ("530102", "五华区", 1983),
            ("530103", "盘龙区", 1983),
            ("530124", "富民县", 0),
        ),
        _areas("云南省", "玉溪市", ("530402", "红塔区", 1997)),
        _areas("西藏自治区", "拉萨市", ("540102", "城关区", 1983), ("540121", "林周县", 0)),
        _areas("西藏自治区", "日喀则市", ("540202", "桑珠孜区", 2014)),
        _areas(
            "陕西省",
            "西安市",
            ("610103", "碑林区", 1983),
            ("610112", "未央区", 1983),
            ("610113", "雁塔区", 1983),
        ),
        _areas("陕西省", "宝鸡市", ("610302", "渭滨区", 1983), ("610323", "岐山县", 0)),
        _areas(
            "甘肃省",
            "兰州市",
            ("620102", "城关区", 1983),
            ("620103", "七里河区", 1983),
            ("620121", "永登县", 0),
        ),
        _areas("甘肃省", "天水市", ("620502", "秦州区", 2004)),
        _areas("青海省", "西宁市", ("630102", "城东区", 1983), ("630103", "城中区", 1983)),
        _areas("青海省", "海北藏族自治州", ("632221", "门源回族自治县", 0)),
        _areas(
            "宁夏回族自治区",
            "银川市",
            ("640104", "兴庆区", 2002),
            ("640106", "金凤区", 2002),
            ("640121", "永宁县", 0),
        ),
        _areas("宁夏回族自治区", "石嘴山市", ("640202", "大武口区", 1983)),
        _areas(
            "新疆维吾尔自治区",
            "乌鲁木齐市",
            ("650102", "天山区", 1983),
            ("650103", "沙依巴克区", 1983),
            ("650121", "乌鲁木齐县", 0),
        ),
        _areas("新疆维吾尔自治区", "克拉玛依市", ("650203", "克拉玛依区", 1983)),
    )
)


@dataclass(frozen=True, slots=True)
class Birthplace:
    """A county-level code as it may appear in a resident ID, with the birth years for
    which stdnum accepts it (``last is None``: still in use)."""

    province: str
    county: str
    code: str
    first: int
    last: int | None = None

    def valid_in(self, year: int) -> bool:
        return self.first <= year and (self.last is None or year <= self.last)


# Counties abolished or renamed since. Real IDs of older people carry such codes, and
# stdnum accepts the current codes of many provinces (Guangdong, Jiangsu, Shandong, ...)
# only from 1983 on, so without these everyone born earlier would seem to come from
# Beijing, Shanghai or a handful of rural counties.
_HISTORIC_BIRTHPLACES: tuple[Birthplace, ...] = (
    Birthplace("北京市", "崇文区", "110103", 0, 2010),
    Birthplace("北京市", "宣武区", "110104", 0, 2010),
    Birthplace("天津市", "塘沽区", "120107", 0, 2009),
    Birthplace("河北省", "大名县", "132121", 0, 1993),
    Birthplace("河北省", "魏县", "132122", 0, 1993),
    Birthplace("辽宁省", "辽中县", "210122", 0, 2016),
    Birthplace("黑龙江省", "巴彦县", "232126", 0, 1996),
    Birthplace("上海市", "卢湾区", "310103", 0, 2011),
    Birthplace("上海市", "闸北区", "310108", 0, 2015),
    Birthplace("江苏省", "江宁县", "320121", 0, 2000),
    Birthplace("江苏省", "六合县", "320123", 0, 2002),
    Birthplace("浙江省", "余杭县", "330125", 0, 1994),
    Birthplace("安徽省", "芜湖县", "340221", 0, 2020),
    Birthplace("福建省", "同安县", "350221", 0, 1996),
    Birthplace("江西省", "新建县", "360122", 0, 2015),
    Birthplace("山东省", "历城县", "370121", 0, 1987),
    Birthplace("山东省", "即墨县", "370222", 0, 1989),
    Birthplace("河南省", "荥阳县", "410121", 0, 1994),
    Birthplace("湖北省", "武昌县", "420122", 0, 1995),
    Birthplace("湖南省", "望城县", "430122", 0, 2011),
    Birthplace("广东省", "花县", "440121", 0, 1993),
    Birthplace("广东省", "番禺县", "440126", 0, 1992),
    Birthplace("广西壮族自治区", "横县", "452122", 0, 2002),
    Birthplace("四川省", "双流县", "510122", 0, 2015),
    Birthplace("云南省", "呈贡县", "530121", 0, 2011),
    Birthplace("陕西省", "长安县", "610121", 0, 2002),
)

BIRTHPLACES: tuple[Birthplace, ...] = (
    *(Birthplace(a.province, a.district, a.code, a.since) for a in AREAS),
    *_HISTORIC_BIRTHPLACES,
)


@functools.cache
def birthplaces(province: str | None, year: int) -> tuple[Birthplace, ...]:
    """Codes stdnum accepts for someone born in ``year`` (in ``province``, if given)."""
    return tuple(
        place
        for place in BIRTHPLACES
        if place.valid_in(year) and (province is None or place.province == province)
    )


def _cumulative_weights() -> tuple[float, ...]:
    per_province: dict[str, int] = {}
    for area in AREAS:
        per_province[area.province] = per_province.get(area.province, 0) + 1
    # Spread a province's weight over its areas so the table's shape (how many districts
    # we happened to list) does not skew the regional mix.
    weights = (_PROVINCE_WEIGHTS[a.province] / per_province[a.province] for a in AREAS)
    return tuple(itertools.accumulate(weights))


# Precomputed once: random.choices with cum_weights skips re-summing on every draw.
AREA_CUM_WEIGHTS: tuple[float, ...] = _cumulative_weights()
