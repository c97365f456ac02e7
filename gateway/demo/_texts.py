"""Free-text fields (customer notes, interaction summaries) that carry PII.

The texts exist to exercise PII detection and masking of free text, so values are
embedded the way agents type them: no spaces around the digits, Chinese punctuation
right after an e-mail address. Regexes relying on ``\\b`` will not see these numbers,
because CJK characters count as word characters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextFacts:
    """Synthetic values a text may mention: the customer's own and some new ones."""

    name: str
    polite_name: str  # e.g. 王先生, 欧阳女士
    phone: str
    alt_phone: str  # a second number the customer gives, not stored in `phone`
    email: str
    id_number: str
    address: str
    bank_card: str
    guardian_name: str | None  # set for minors under 14 only
    guardian_phone: str | None

    def as_mapping(self) -> dict[str, str]:
        return {
            "name": self.name,
            "polite_name": self.polite_name,
            "phone": self.phone,
            "alt_phone": self.alt_phone,
            "email": self.email,
            "id_number": self.id_number,
            "address": self.address,
            "bank_card": self.bank_card,
            "guardian_name": self.guardian_name or "",
            "guardian_phone": self.guardian_phone or "",
        }


# Every note fragment holds PII; most of them a mobile number or a resident ID.
_NOTE_FRAGMENTS: tuple[str, ...] = (
    "客户{name}来电，手机{phone}，要求修改收货地址。",
    "{polite_name}登记证件号{id_number}，已完成实名认证。",
    "客户要求退款至银行卡{bank_card}，已转财务处理。",
    "备用联系电话{alt_phone}，工作日白天可联系。",
    "客户邮箱{email}，偏好电子发票。",
    "常用收货地址：{address}。",
    "{polite_name}反映手机号{phone}收不到验证码，已登记。",
    "客户提供身份证{id_number}用于开具发票。",
    "{name}为老客户，联系电话{phone}，生日前发送关怀短信。",
)
_GUARDIAN_FRAGMENTS: tuple[str, ...] = (
    "未满十四周岁，监护人{guardian_name}，监护人电话{guardian_phone}。",
    "账户由监护人{guardian_name}代为管理，联系电话{guardian_phone}。",
)

_PLAIN_SUMMARIES: tuple[str, ...] = (
    "咨询会员积分兑换规则，已解答。",
    "反馈物流延迟，已催促配送。",
    "询问退货政策，已发送说明。",
    "投诉商品包装破损，已安排补发。",
    "咨询优惠券使用方法，已指导操作。",
    "对售后服务表示满意。",
    "申请开具发票，已处理。",
    "询问门店营业时间。",
    "咨询会员等级权益，已说明升级条件。",
    "反馈商品尺码偏小，已办理换货。",
    "询问预售商品发货时间。",
    "取消订阅营销短信，已登记。",
)
_PII_SUMMARIES: tuple[str, ...] = (
    "客户来电{phone}，咨询订单物流进度。",
    "客户更新手机号为{alt_phone}，已核实身份。",
    "客户通过邮箱{email}提交发票抬头。",
    "核对身份证号{id_number}后为客户重置登录密码。",
    "{name}要求将包裹改送至{address}。",
    "客户要求发送电子合同至{email}，已发送。",
    "客户报失银行卡{bank_card}，已解绑快捷支付。",
    "{polite_name}来电，手机{phone}，投诉配送员态度。",
)
PII_SUMMARY_SHARE = 0.5


def customer_note(rng: random.Random, facts: TextFacts) -> str:
    values = facts.as_mapping()
    fragments = rng.sample(_NOTE_FRAGMENTS, rng.randint(1, 2))
    if facts.guardian_name is not None:
        fragments = [rng.choice(_GUARDIAN_FRAGMENTS), *fragments[:1]]
    return "".join(fragment.format_map(values) for fragment in fragments)


def interaction_summary(rng: random.Random, facts: TextFacts) -> str:
    if rng.random() < PII_SUMMARY_SHARE:
        return rng.choice(_PII_SUMMARIES).format_map(facts.as_mapping())
    return rng.choice(_PLAIN_SUMMARIES)
