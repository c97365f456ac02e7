"""The Art. 48 explanation: which purposes process this person's data, on which legal
basis, which data categories, how long it is kept and who receives it — generated in
Chinese from the policy and purposes in force and the person's own consents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.schema import consents
from policies.document import PolicyDocument
from policies.purposes import LegalBasis, Purpose

FORMAT = "wardgate.dsr.explanation/1"

LEGAL_BASIS_ZH = {
    LegalBasis.CONSENT: "取得个人的同意（第十三条第一款第一项）",
    LegalBasis.CONTRACT: "为订立、履行个人作为一方当事人的合同所必需（第十三条第一款第二项）",
    LegalBasis.HR_MANAGEMENT: "为实施人力资源管理所必需（第十三条第一款第二项）",
    LegalBasis.LEGAL_OBLIGATION: "为履行法定职责或者法定义务所必需（第十三条第一款第三项）",
    LegalBasis.EMERGENCY: "为应对突发公共卫生事件或紧急情况所必需（第十三条第一款第四项）",
    LegalBasis.NEWS_PUBLIC_INTEREST: "为公共利益实施新闻报道、舆论监督（第十三条第一款第五项）",
    LegalBasis.PUBLISHED_DATA: "处理已合法公开的个人信息（第十三条第一款第六项）",
    LegalBasis.OTHER_LAW: "法律、行政法规规定的其他情形（第十三条第一款第七项）",
}


def _current_grants(rows: Iterable[Any], now: dt.datetime) -> set[str]:
    """Purposes this person's consent is in force for (latest event a grant, not expired)."""
    latest: dict[str, Any] = {}
    for row in rows:
        latest[row.purpose] = row
    granted = set()
    for purpose, row in latest.items():
        if row.kind != "grant":
            continue
        if row.expires_at and dt.datetime.fromisoformat(row.expires_at) <= now:
            continue
        granted.add(purpose)
    return granted


def _recipients_zh(purpose: Purpose) -> list[str]:
    found = []
    if purpose.third_party:
        found.append("向其他个人信息处理者提供（第二十三条，需单独同意）")
    if purpose.public_disclosure:
        found.append("公开（第二十五条，需单独同意）")
    if purpose.cross_border:
        found.append("向境外提供（第三十九条，需单独同意）")
    return found


def _purpose_entry(purpose: Purpose, consented: bool) -> dict[str, Any]:
    recipients = _recipients_zh(purpose)
    basis = LEGAL_BASIS_ZH[purpose.legal_basis]
    categories = sorted(purpose.categories)
    statement = (
        f"为“{purpose.name_zh}”之目的，依据{basis}，处理您的以下类别个人信息："
        f"{'、'.join(categories) if '*' not in categories else '全部类别'}；"
        f"保存期限为{purpose.retention_days}日。"
        + (f"接收方：{'；'.join(recipients)}。" if recipients else "不向第三方提供，不出境。")
    )
    return {
        "purpose": purpose.id,
        "name_zh": purpose.name_zh,
        "legal_basis": purpose.legal_basis.value,
        "legal_basis_zh": basis,
        "consented": consented if purpose.requires_consent else None,
        "categories": categories,
        "retention_days": purpose.retention_days,
        "third_party": purpose.third_party,
        "public_disclosure": purpose.public_disclosure,
        "cross_border": purpose.cross_border,
        "marketing": purpose.marketing,
        "automated_decision": purpose.automated_decision,
        "statement_zh": statement,
    }


async def build_explanation(
    conn: AsyncConnection, document: PolicyDocument, request: Any
) -> dict[str, Any]:
    rows = (
        await conn.execute(
            select(consents.c.purpose, consents.c.kind, consents.c.expires_at)
            .where(consents.c.customer_id == request.customer_id)
            .order_by(consents.c.at, consents.c.id)
        )
    ).all()
    granted = _current_grants(rows, dt.datetime.now(dt.UTC))
    # A purpose that rests on consent applies only while the person's consent is in
    # force; one on another legal basis applies to every customer.
    applies = [
        _purpose_entry(purpose, purpose.id in granted)
        for purpose in sorted(document.purposes.values(), key=lambda p: p.id)
        if not purpose.requires_consent or purpose.id in granted
    ]
    return {
        "format": FORMAT,
        "request": {
            "id": request.id,
            "type": request.type,
            "customer_id": request.customer_id,
            "received_at": request.received_at,
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        "purposes": applies,
        "text_zh": "\n".join(entry["statement_zh"] for entry in applies),
    }
