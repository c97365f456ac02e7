"""Chinese postal addresses: an administrative prefix and a street-level part.

The prefix is a province-level name from the closed list of 34, or a prefecture or
county name ("杭州市", "西湖区") where a word can start: after punctuation or a word such
as 地址/寄到/送至/位于/住在. The street part runs on over Han characters, digits and
letters until punctuation, a space or a word that ends an address (联系, 电话, 收, 附近...)
and is cut back to its last address unit (路, 号, 栋, 单元, 室...), keeping a short room
number after it. A prefix without a street part ("广东省深圳市") is a place, not an
address, and is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from masking.detection._text import HAN, trie_regex, words
from masking.detection.recognizers._base import Finding, WardgateRecognizer

__all__ = ["AddressRecognizer"]

_PROVINCES = words(
    "北京市 天津市 上海市 重庆市 北京 天津 上海 重庆 河北省 山西省 辽宁省 吉林省 黑龙江省 "
    "江苏省 浙江省 安徽省 福建省 江西省 山东省 河南省 湖北省 湖南省 广东省 海南省 四川省 "
    "贵州省 云南省 陕西省 甘肃省 青海省 台湾省 内蒙古自治区 广西壮族自治区 西藏自治区 "
    "宁夏回族自治区 新疆维吾尔自治区 香港特别行政区 澳门特别行政区"
)
_LEADS = words(
    "地址 住址 收货地址 地点 住在 家住 居住 寄往 寄到 寄至 寄送 送往 送到 送至 发往 发到 改送 "
    "改到 改为 位于 来自 迁至 搬到 搬至 户籍 籍贯 住 在 到 至 往 于 为 是"
)
_MARKER = re.compile("[省市区县旗盟州]|地区")
_NAME = f"(?:(?![省市区县旗盟]){'[' + HAN + ']'})"
_CITY = f"{_NAME}{{2,7}}?(?:市|自治州|地区|盟)"
_DISTRICT = f"(?:{_NAME}{{1,8}}?(?:自治县|区|县|旗|市))"
_MAX_NAME = 10  # longest name before the first level marker that we look back over
_CHAIN = re.compile(
    f"(?:中华人民共和国|中国)?(?P<province>{trie_regex(_PROVINCES)})?(?:{_CITY})?(?:{_DISTRICT})?"
)
_PROVINCE_AT = re.compile(f"(?:中华人民共和国|中国)?{trie_regex(_PROVINCES)}")
_LEAD_AT = re.compile(trie_regex(_LEADS))
_LEAD_BEFORE = re.compile(f"(?:{trie_regex(_LEADS)})$")
_HAN_CHAR = re.compile(f"[{HAN}]")
_TAIL_CHAR = re.compile(f"[{HAN}0-9A-Za-z#\\-]")
# Words that end an address when notes run on without punctuation ("...1102室客户要求").
# Only words, no single characters: 和/交/放 also start street names (和平路, 交通路).
_TAIL_STOP = re.compile(
    trie_regex(
        words(
            "联系 电话 手机 座机 收件 收货 附近 旁边 对面 门口 楼下 客户 用户 先生 女士 卡号 "
            "身份 证件 订单 询问 咨询 要求 通知 投诉 反映 登记 办理 预约 提供 备注 已经 已通知 "
            "已发 已安排 已完成 请 的"
        )
    )
    + "|收$|收[，。,.]"
)
_UNIT = re.compile("[号室栋幢座楼层元弄村组路街道巷里苑园城厦院场镇乡期门府庄湾居寓邸宅舍]")
_STREET_LEVEL = re.compile(
    "路|街|道|巷|弄|胡同|村|号|栋|幢|座|室|楼|单元|小区|苑|园|大厦|广场|镇|乡"
)
_ROOM = re.compile("[0-9A-Za-z-]{1,5}(?![0-9A-Za-z])")
_MAX_TAIL = 40
# After "105号" a new Han run starts, but 号丽景小区 is no district: unit words do not
# start a place name.
_NOT_A_NAME_START = frozenset("号室栋幢座楼层单元弄组期")
_FULL_SCORE = 0.85
_PARTIAL_SCORE = 0.6


class AddressRecognizer(WardgateRecognizer):
    ENTITY = "CN_ADDRESS"
    CONTEXT = (
        "地址",
        "住址",
        "收货",
        "寄",
        "送",
        "住",
        "户籍",
        "address",
        "ship",
        "deliver",
    )

    def find(self, text: str) -> Iterator[Finding]:
        # Driven by the level markers (省/市/区/县...): the address prefix ends at one,
        # so only the few characters before each marker are candidate starts.
        position = 0
        for marker in _MARKER.finditer(text):
            at = marker.start()
            if at < position or not _UNIT.search(text, at + 1, at + 1 + _MAX_TAIL):
                continue
            start = _prefix_start(text, at, position)
            if start is None:
                continue
            chain = _CHAIN.match(text, start)
            if chain is None or chain.end() <= at:
                continue
            end = self._street_end(text, chain.end())
            if end is None:
                continue
            score = _FULL_SCORE if chain["province"] else _PARTIAL_SCORE
            yield Finding(start, end, score)
            position = end

    @staticmethod
    def _street_end(text: str, start: int) -> int | None:
        end = start
        limit = min(len(text), start + _MAX_TAIL)
        while end < limit and _TAIL_CHAR.match(text, end) and not _TAIL_STOP.match(text, end):
            end += 1
        # Back to the last address unit, then a short room number right after it.
        last_unit = max((m.end() for m in _UNIT.finditer(text, start, end)), default=start)
        if last_unit == start or not _STREET_LEVEL.search(text, start, last_unit):
            return None
        room = _ROOM.match(text, last_unit, end)
        if room is not None and room.end() == end:
            return room.end()
        return last_unit


def _prefix_start(text: str, marker: int, floor: int) -> int | None:
    """Where the address holding the level marker at `marker` starts, if anywhere.

    The name before the marker runs back over Han characters; it starts at a
    province-level name, else right after the nearest lead word (地址, 寄到, 住在...),
    else at the start of the Han run, unless that run starts with a lead word.
    """
    lo = max(floor, marker - _MAX_NAME)
    run = marker
    while run > lo and _HAN_CHAR.match(text, run - 1):
        run -= 1
    if run == marker:
        return None
    for start in range(run, marker):
        if _PROVINCE_AT.match(text, start):
            return start
    for start in range(marker - 1, run, -1):
        if _LEAD_BEFORE.search(text, max(run, start - 4), start):
            return start
    run_is_word_start = run == 0 or not _HAN_CHAR.match(text, run - 1)
    if run_is_word_start and not _LEAD_AT.match(text, run) and text[run] not in _NOT_A_NAME_START:
        return run
    return None
