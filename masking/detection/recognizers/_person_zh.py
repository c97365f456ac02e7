"""Chinese person names: a surname, a one- or two-character given name, and evidence.

Most surname characters are also everyday characters (高, 金, 方, 于, 和...), so a
surname followed by one or two characters is only a candidate. A candidate must start
where a word can start (after punctuation, a label such as 客户/联系人/姓名, or a
preposition or verb such as 与/给/通知/回电) and end where a word can end (before
punctuation, digits, an honorific such as 先生/女士, or a verb such as 来电/反映/表示).
Then:

- a label before it, or an honorific after it, is enough (unless jieba's dictionary
  knows the candidate as a verb, adjective... "安装师傅" is an installer);
- otherwise jieba must segment the clause around it with word boundaries at both ends
  and either tag a word inside as a person name (nr) or find no dictionary word inside
  at all (each character a word of its own: how jieba splits a name it does not know).
  jieba runs on those few clauses only, which keeps it (~1 MB/s) off most of the text.

A surname directly followed by an honorific ("王先生") is reported with the honorific:
that is the whole name the note gives, and the name masker shows it as `王*`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from masking.detection._jieba import dictionary_tag, tag_words
from masking.detection._surnames import COMPOUND_SURNAMES, SINGLE_SURNAMES
from masking.detection._text import HAN, trie_regex, words
from masking.detection.recognizers._base import Finding, WardgateRecognizer
from masking.operators._honorifics import HONORIFICS

__all__ = ["ChinesePersonRecognizer"]


# Labels that introduce a person: a name right after one is a name.
_LABELS = words(
    "姓名 名字 客户 顾客 用户 会员 联系人 收件人 收货人 寄件人 发件人 监护人 持卡人 开户人 "
    "户名 经办人 申请人 投保人 被保险人 受益人 法定代表人 法人 负责人 患者 病人 家属 本人 "
    "担保人 借款人 业主 房东 租客 学员 学生 员工 同事 坐席 客服 专员 丈夫 妻子 爱人 父亲 母亲 "
    "儿子 女儿 老公 老婆 朋友 签收人 代收人 推荐人 介绍人 紧急联系人 联络人 对接人 称呼 叫做 "
    "名叫 姓"
)
# Words after which a name may start, but which do not make a name by themselves.
_LEADS = words(
    "与 和 跟 同 给 向 对 请 让 叫 由 被 把 将 为 是 帮 替 据 经 等 及 或 和 问 找 联系 通知 "
    "告知 转告 回复 回访 致电 回电 拨打 电话 来电 提醒 邀请 安排 转给 交给 陪同 核实 确认 询问 "
    "答复 约 由于 向其 代 称 ： 今天 昨天 明天 今日 当天 刚才 随后 上午 下午 晚上"
)
_HONORIFICS = tuple(sorted(HONORIFICS))
# Words that may follow a name.
_FOLLOWERS = words(
    "来电 致电 来访 到店 到访 反映 反馈 表示 要求 投诉 咨询 询问 称 说 讲 告知 确认 同意 拒绝 "
    "希望 需要 办理 申请 提出 提供 登记 预约 签收 下单 购买 退货 退款 换货 收到 本人 的 已 未 "
    "不 没 在 于 是 和 与 及 也 都 对 今天 明天 昨天 上午 下午 晚上 电话 手机 身份证 邮箱 地址 "
    "来 去 到 将 会 要 想 于 为 因 从 把 被 通过 再次 多次 一直 目前 现在 此前 之前 今日 近日 "
    "等 处 家 名下 账户 联系 表态 认为 指出 留言 留下 发来 打来 回复 答应 承诺 请求 核实 核对 "
    "沟通 协商 见面 面谈 签字 签名 付款 支付 取件 取货"
)

_STOP_GIVEN = frozenset(
    "的了是在和与及或说称来去到把被给向对从于已将要会也都就还又再很更最不没无这那个们着过吗呢吧啊"
    "哦嗯电话号手机先生女士客户订单退款地址证卡银行邮箱请您我你他她它其此该每各某等做让使由因所但而"
    "如虽时后前上下中内外里间年月日天点分秒元块钱次件位名码反映表示要求投诉咨询询问办理申请登记确认"
    "已收到处理核实回访致电来电联系"
)
# Candidates are surnames where a name may start: right after a label (with an
# optional colon), right after a lead word, or at the start of a run of Han
# characters. The scan looks for the first character of a surname only (one character
# class, which `re` searches fast); the rest is set lookups.
_SURNAME_START = re.compile(
    f"[{''.join(sorted(SINGLE_SURNAMES | {s[0] for s in COMPOUND_SURNAMES}))}]"
)
_COMPOUND_LENGTHS = sorted({len(s) for s in COMPOUND_SURNAMES}, reverse=True)
# The word ending right before a candidate: a label wins over a lead word.
_EVIDENCE = {**dict.fromkeys(_LEADS, "lead"), **dict.fromkeys(_LABELS, "label")}
_EVIDENCE_LENGTHS = sorted({len(w) for w in _EVIDENCE}, reverse=True)
_AFTER_LABEL = frozenset(":：是为叫 \t")
_GIVEN_NAME = re.compile(f"(?:(?![{''.join(sorted(_STOP_GIVEN))}])[{HAN}])+")
_HONORIFIC_AFTER = re.compile(trie_regex(_HONORIFICS))
_FOLLOWER_AFTER = re.compile(trie_regex(_FOLLOWERS))
_CLAUSE = 4  # Han characters of clause on each side given to the tagger

# jieba tags of dictionary words that are no names even after a label or before an
# honorific: verbs, adjectives, adverbs, prepositions, conjunctions, particles,
# pronouns, numerals, measure words, locatives, time words.
_NOT_NAME_TAGS = frozenset(words("v vn vd a ad an d p c u r m q f t"))
_LABEL_SCORE = 0.85
_TAGGED_SCORE = 0.75


def _surname_at(text: str, start: int) -> str | None:
    for length in _COMPOUND_LENGTHS:
        if text[start : start + length] in COMPOUND_SURNAMES:
            return text[start : start + length]
    single = text[start]
    return single if single in SINGLE_SURNAMES else None


def _word_before(text: str, end: int) -> str | None:
    for length in _EVIDENCE_LENGTHS:
        if length <= end:
            kind = _EVIDENCE.get(text[end - length : end])
            if kind is not None:
                return kind
    return None


def _left_evidence(text: str, start: int) -> str | None:
    """ "label", "lead" or "edge" (start of a Han run) before `start`, else None."""
    if start == 0:
        return "edge"
    kind = _word_before(text, start)
    if kind is not None:
        return kind
    previous = text[start - 1]
    if previous in _AFTER_LABEL:  # "姓名：王", "客户是王"
        end = start - 1
        if end > 0 and text[end - 1] in _AFTER_LABEL:
            end -= 1
        if _word_before(text, end) == "label":
            return "label"
    return None if _han_char(previous) else "edge"


def _han_char(char: str) -> bool:
    return (
        "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or "\uf900" <= char <= "\ufaff"
    )


def _is_han(text: str, index: int) -> bool:
    return 0 <= index < len(text) and _han_char(text[index])


class ChinesePersonRecognizer(WardgateRecognizer):
    ENTITY = "PERSON"
    CONTEXT = (*_LABELS, *_HONORIFICS)

    def find(self, text: str) -> Iterator[Finding]:
        taken_until = 0
        for match in _SURNAME_START.finditer(text):
            start = match.start()
            if start < taken_until:
                continue
            surname = _surname_at(text, start)
            if surname is None:
                continue
            left = _left_evidence(text, start)
            if left is None:
                continue
            finding = self._candidate(text, start, surname, left)
            if finding is not None:
                taken_until = finding.end
                yield finding

    def _candidate(self, text: str, start: int, surname: str, left: str) -> Finding | None:
        after_surname = start + len(surname)
        honorific = _HONORIFIC_AFTER.match(text, after_surname)
        if honorific is not None:
            # "董女士" is one name: masked as a name is (董*), not as a lone surname (*女士).
            return Finding(start, honorific.end(), _LABEL_SCORE, context_applied=True)
        tagged: list[int] = []
        for given in (2, 1):
            end = after_surname + given
            if not self._given_ok(text, after_surname, end):
                continue
            right = self._right_evidence(text, end)
            if right is None:
                continue
            tag = dictionary_tag(text[start:end])
            if left == "label" or right == "honorific":
                if tag in _NOT_NAME_TAGS:
                    continue  # 安装师傅 is an installer, not Mr. 安装
                return Finding(start, end, _LABEL_SCORE, context_applied=True)
            # A dictionary word that is no name (金额, 平台): jieba would keep it whole
            # and tag it so; skip the segmentation.
            if tag is None or tag.startswith("nr"):
                tagged.append(end)
        if tagged:
            name_end = _tagged_as_name(text, start, tagged)
            if name_end is not None:
                return Finding(start, name_end, _TAGGED_SCORE, context_applied=True)
        return None

    @staticmethod
    def _given_ok(text: str, start: int, end: int) -> bool:
        return end <= len(text) and _GIVEN_NAME.fullmatch(text, start, end) is not None

    @staticmethod
    def _right_evidence(text: str, end: int) -> str | None:
        if end >= len(text) or not _is_han(text, end):
            return "edge"
        if _HONORIFIC_AFTER.match(text, end):
            return "honorific"
        if _FOLLOWER_AFTER.match(text, end):
            return "follower"
        return None


def _tagged_as_name(text: str, start: int, ends: list[int]) -> int | None:
    """The first of `ends` such that jieba, segmenting the Han clause around the
    candidate, puts word boundaries at `start` and at that end, and between them
    either tags a word as a person name (nr, nrfg, nrt) or finds no dictionary word
    at all (every character a word of its own: the usual shape of a name jieba does
    not know, "钱/佳")."""
    lo = start
    while lo > max(0, start - _CLAUSE) and _is_han(text, lo - 1):
        lo -= 1
    hi = max(ends)
    while hi < min(len(text), max(ends) + _CLAUSE) and _is_han(text, hi):
        hi += 1
    words = [(lo + a, lo + b, tag) for a, b, tag in tag_words(text[lo:hi])]
    if not any(word_start == start for word_start, _, _ in words):
        return None
    for end in ends:
        inside = [(a, b, tag) for a, b, tag in words if start <= a < end]
        if not inside or inside[-1][1] != end:
            continue
        if any(tag.startswith("nr") for _, _, tag in inside):
            return end
        if len(inside) > 1 and all(b - a == 1 for a, b, _ in inside):
            return end
    return None
