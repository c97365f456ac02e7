"""Addresses: keep the administrative prefix down to district, never the street."""

import pytest

from masking import default_registry


def mask(value: str, **config: object) -> str:
    return default_registry().bind("address", **config)(value)


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("广东省深圳市南山区科技园路1号", "广东省深圳市南山区****"),
        ("内蒙古自治区呼和浩特市新城区新华大街1号", "内蒙古自治区呼和浩特市新城区****"),
        ("浙江省杭州市淳安县千岛湖镇环湖北路", "浙江省杭州市淳安县****"),
        ("江苏省苏州市昆山市玉山镇前进路1号", "江苏省苏州市昆山市****"),
        ("内蒙古自治区鄂尔多斯市达拉特旗树林召镇", "内蒙古自治区鄂尔多斯市达拉特旗****"),
        (
            "内蒙古自治区呼伦贝尔市鄂温克族自治旗巴彦托海镇",
            "内蒙古自治区呼伦贝尔市鄂温克族自治旗****",
        ),
        ("内蒙古自治区锡林郭勒盟锡林浩特市额尔敦路", "内蒙古自治区锡林郭勒盟锡林浩特市****"),
        ("吉林省延边朝鲜族自治州延吉市光明街", "吉林省延边朝鲜族自治州延吉市****"),
        ("黑龙江省大兴安岭地区漠河市西林吉镇", "黑龙江省大兴安岭地区漠河市****"),
        ("湖北省神农架林区松柏镇", "湖北省神农架林区****"),
        ("广西壮族自治区南宁市青秀区民族大道", "广西壮族自治区南宁市青秀区****"),
        ("上海市浦东新区世纪大道100号", "上海市浦东新区****"),
        ("山东省济南市市中区经十路", "山东省济南市市中区****"),
        ("香港特别行政区九龙城区太子道", "香港特别行政区九龙城区****"),
    ],
)
def test_given_address_then_it_is_kept_down_to_district(address: str, masked: str) -> None:
    assert mask(address) == masked


def test_given_address_with_country_and_spaces_then_they_are_dropped() -> None:
    assert mask("中国 北京市 朝阳区 建国路88号") == "北京市朝阳区****"


def test_given_municipality_without_shi_then_district_is_still_found() -> None:
    assert mask("北京朝阳区建国路88号") == "北京朝阳区****"


def test_given_district_without_province_then_district_is_kept() -> None:
    assert mask("朝阳区建国路88号") == "朝阳区****"


def test_given_city_without_districts_then_only_province_and_city_are_kept() -> None:
    assert mask("广东省东莞市东城街道莞樟路") == "广东省东莞市****"


def test_given_no_district_marker_then_only_the_province_is_kept() -> None:
    assert mask("北京市建国路88号") == "北京市****"


def test_given_street_that_looks_like_a_city_then_it_is_not_kept() -> None:
    assert mask("北京市朝阳区朝阳市场3号") == "北京市朝阳区****"
    assert mask("上海市市光路88号") == "上海市****"


@pytest.mark.parametrize("address", ["建国路88号", "88 Jianguo Road, Chaoyang, Beijing", "???"])
def test_given_no_administrative_prefix_then_it_is_fully_redacted(address: str) -> None:
    assert mask(address) == "****"


def test_given_empty_address_then_result_is_empty() -> None:
    assert mask("") == ""


@pytest.mark.parametrize(
    ("keep", "masked"),
    [
        ("province", "广东省****"),
        ("city", "广东省深圳市****"),
        ("district", "广东省深圳市南山区****"),
    ],
)
def test_given_keep_level_then_address_is_kept_down_to_it(keep: str, masked: str) -> None:
    assert mask("广东省深圳市南山区科技园路1号", keep=keep) == masked
