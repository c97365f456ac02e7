"""Person names: surname kept, compound surnames whole, Latin initials."""

import pytest

from masking import default_registry
from masking.operators import COMPOUND_SURNAMES


def mask(value: str) -> str:
    return default_registry().bind("person_name")(value)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张三丰", "张**"), ("李小龙", "李**"), ("王", "*")],
)
def test_given_single_surname_then_surname_is_kept(name: str, masked: str) -> None:
    assert mask(name) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("董女士", "董*"),
        ("王先生", "王*"),
        ("李小姐", "李*"),
        ("张经理", "张*"),
        ("刘总", "刘*"),
        ("欧阳女士", "欧阳*"),
        ("司马先生", "司马*"),
    ],
)
def test_given_surname_with_honorific_then_shown_as_a_masked_full_name(
    name: str, masked: str
) -> None:
    assert mask(name) == masked


def test_given_full_name_ending_like_an_honorific_then_masked_as_a_name() -> None:
    # Only a bare surname before the honorific drops it; a longer name is masked whole.
    assert mask("张小明先生") == "张****"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("欧阳娜娜", "欧阳**"),
        ("司马懿", "司马*"),
        ("诸葛亮", "诸葛*"),
        ("上官婉儿", "上官**"),
        ("东方不败", "东方**"),
        ("尉迟恭", "尉迟*"),
        ("慕容复", "慕容*"),
        ("令狐冲", "令狐*"),
        ("端木蓉", "端木*"),
        ("万俟卨", "万俟*"),
        ("澹台灭明", "澹台**"),
        ("歐陽修", "歐陽*"),
        ("司馬遷", "司馬*"),
        ("爱新觉罗玄烨", "爱新觉罗**"),
    ],
)
def test_given_compound_surname_then_both_characters_are_kept(name: str, masked: str) -> None:
    assert mask(name) == masked


@pytest.mark.parametrize(
    "surname",
    [
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里",
        "呼延", "东郭", "申屠", "万俟", "闻人", "澹台", "公冶", "宗政", "濮阳", "太史",
    ],
)  # fmt: skip
def test_given_surname_from_brief_list_then_it_is_a_compound_surname(surname: str) -> None:
    assert surname in COMPOUND_SURNAMES
    assert mask(surname + "明") == surname + "*"


def test_given_compound_surname_characters_alone_then_a_given_name_is_still_masked() -> None:
    """A two-character name is never shown whole, even if it spells a compound surname."""
    assert mask("欧阳") == "欧*"


def test_given_chinese_name_with_spaces_then_spaces_are_dropped() -> None:
    assert mask(" 张 三 ") == "张*"


def test_given_minority_name_with_middle_dot_then_all_but_first_character_is_masked() -> None:
    assert mask("买买提·艾力") == "买*****"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("John Smith", "J*** S****"),
        ("Madonna", "M******"),
        ("Jean-Luc Picard", "J******* P*****"),
        ("  Ada   Lovelace ", "A** L*******"),
        ("J", "*"),
    ],
)
def test_given_latin_name_then_each_word_keeps_its_first_letter(name: str, masked: str) -> None:
    assert mask(name) == masked


@pytest.mark.parametrize("name", ["", "   "])
def test_given_empty_name_then_result_is_empty(name: str) -> None:
    assert mask(name) == ""


def test_given_mask_char_then_it_is_used() -> None:
    assert default_registry().bind("person_name", mask_char="#")("张三丰") == "张##"
