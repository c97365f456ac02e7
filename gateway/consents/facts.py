"""A stored customer's consent facts for explaining a decision: history and minor or not.

Loaded as a read loads them (the same history, the same age rule on the same decrypted
fields), so an explanation for a customer agrees with what a read of that customer gets.
Only the facts leave this module, never the decrypted birth date or ID number.
"""

from __future__ import annotations

import datetime as dt

from gateway.consents.store import consent_events
from gateway.customers.age import AGE_FIELDS, reveal_ages
from gateway.customers.live import require_live_customer
from gateway.db.engine import Database
from gateway.encryption.protection import Protector
from policies.explain import ConsentFacts


async def customer_consent_facts(
    db: Database, protector: Protector, customer_id: str, purpose: str | None = None
) -> ConsentFacts:
    """Consent history (for `purpose`, or all) and age of a live customer.

    Raises NotFound for an unknown customer and Gone for an erased one.
    """
    async with db.reader.connect() as conn:
        row = await require_live_customer(conn, customer_id, AGE_FIELDS)
        events = await consent_events(conn, [customer_id], purpose)
    ages = await reveal_ages(protector, [row])
    minor = ages[customer_id].minor_on(dt.datetime.now(dt.UTC).date())
    return ConsentFacts(customer_id=customer_id, events=tuple(events), minor=minor)
