"""Chinese names: surname list, context, jieba's tags."""

import pytest

from masking.detection import PiiDetector
from tests.helpers.detection import values_of


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("客户王建国来电，手机号变更。", "王建国"),
        ("联系人：温秀英，电话见系统。", "温秀英"),
        ("收件人李伟不在家，改约明天。", "李伟"),
        ("欧阳娜娜女士反映商品破损。", "欧阳娜娜"),
        ("持卡人司马懿申请挂失。", "司马懿"),
        ("已回电张丽华，说明退款进度。", "张丽华"),
        ("与钱佳核实身份后重置密码。", "钱佳"),
        ("王建国的订单已发货。", "王建国"),
    ],
)
def test_given_name_with_evidence_then_exact_span(
    detector: PiiDetector, text: str, name: str
) -> None:
    assert values_of(detector, text, "PERSON") == [name]


def test_given_surname_with_honorific_then_both_are_the_span(detector: PiiDetector) -> None:
    text = "王先生来电咨询，李女士已签收，欧阳经理和刘总监已确认。"
    assert values_of(detector, text, "PERSON") == ["王先生", "李女士", "欧阳经理", "刘总监"]


def test_given_full_name_before_honorific_then_full_name(detector: PiiDetector) -> None:
    assert values_of(detector, "张建华经理来电。", "PERSON") == ["张建华"]


@pytest.mark.parametrize(
    "text",
    [
        "高速公路封闭导致配送延迟。",
        "金额已原路退回。",
        "马上为您处理。",
        "方便时请回电。",
        "安装师傅明天上门。",
        "于是客户同意换货。",
        "黄金会员可享受免费退换货。",
        "江浙沪地区包邮。",
    ],
)
def test_given_surname_characters_in_ordinary_words_then_no_name(
    detector: PiiDetector, text: str
) -> None:
    assert values_of(detector, text, "PERSON") == []


def test_given_name_next_to_digits_then_found(detector: PiiDetector) -> None:
    assert values_of(detector, "联系人王建国13912345678", "PERSON") == ["王建国"]
