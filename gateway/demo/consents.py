"""Synthetic consent histories for the demo store, deterministic per customer id.

A share of customers agreed to marketing (some also separately to sensitive data), the
service desk holds separate consent for sensitive data for most customers, and minors'
consents carry a guardian reference — the states the consent checks must tell apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

from policies.consent import ConsentEvent, SeparateScope, age_of

NOTICE = "privacy-notice-2026.1"


def _share(customer_id: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def demo_consents(customer: dict[str, object], now: dt.datetime) -> Iterator[ConsentEvent]:
    customer_id = str(customer["id"])
    minor = age_of(customer.get("birth_date"), customer.get("id_number")).minor_on(now.date())
    guardian = f"guardian:{customer_id[-8:]}" if minor else None
    granted_at = now - dt.timedelta(days=30)

    def grant(purpose: str, channel: str, separate: set[SeparateScope]) -> ConsentEvent:
        return ConsentEvent(
            customer_id=customer_id,
            purpose=purpose,
            kind="grant",
            at=granted_at,
            channel=channel,
            notice_version=NOTICE,
            evidence_hash=hashlib.sha256(f"recording:{customer_id}:{purpose}".encode()).hexdigest(),
            expires_at=None,
            separate=frozenset(separate),
            guardian_ref=guardian,
            recorded_by="wardgate init --demo",
        )

    # Minors only with a guardian's consent, for about half of them.
    if minor and _share(customer_id, "guardian") > 0.5:
        return
    if _share(customer_id, "service") < 0.7:
        yield grant("customer_service", "support-desk", {SeparateScope.SENSITIVE})
    marketing = _share(customer_id, "marketing")
    if marketing < 0.45:
        separate = {SeparateScope.SENSITIVE} if marketing < 0.2 else set()
        yield grant("marketing", "marketing-app", separate)
    if _share(customer_id, "analytics") < 0.6:
        yield grant("analytics", "web", set())
