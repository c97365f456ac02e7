"""Chinese addresses: administrative prefix plus a street-level part."""

import pytest

from masking.detection import PiiDetector
from tests.helpers.detection import values_of


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "常用收货地址：广东省深圳市南山区科技园路18号阳光花园3栋2单元1102室。",
            "广东省深圳市南山区科技园路18号阳光花园3栋2单元1102室",
        ),
        ("地址北京市朝阳区建国路88号，请送货上门。", "北京市朝阳区建国路88号"),
        ("包裹寄到杭州市西湖区文三路90号，联系人张三", "杭州市西湖区文三路90号"),
        ("客户住在朝阳区建国路88号2号楼1203", "朝阳区建国路88号2号楼1203"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放路1号", "新疆维吾尔自治区乌鲁木齐市天山区解放路1号"),
        ("收货地址上海市浦东新区世纪大道100号张先生收", "上海市浦东新区世纪大道100号"),
        ("河北省唐山市路南区和平路5号", "河北省唐山市路南区和平路5号"),
    ],
)
def test_given_address_then_exact_span(detector: PiiDetector, text: str, address: str) -> None:
    assert values_of(detector, text, "CN_ADDRESS") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "客户来自广东省深圳市。",  # a place, not an address
        "小区门口有快递柜。",
        "市场部将于下周联系客户。",
        "江浙沪地区包邮。",
    ],
)
def test_given_place_or_ordinary_words_then_no_address(detector: PiiDetector, text: str) -> None:
    assert values_of(detector, text, "CN_ADDRESS") == []
