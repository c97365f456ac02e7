"""A stored customer's consent facts for explaining a decision: history and minor or not.

Loaded as a read loads them (the same history, the same age rule on the same decrypted
fields), so an explanation for a customer agrees with what a read of that customer gets.
Only the facts leave this module, never the decrypted birth date or ID number.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from gateway.consents.store import consent_events
from gateway.db.engine import Database
from gateway.db.schema import store_tables
from gateway.encryption.protection import Protector
from gateway.governance.consent_gate import AGE_FIELDS, minor_of
from gateway.http.errors import Gone, NotFound
from policies.explain import ConsentFacts


async def customer_consent_facts(
    db: Database, protector: Protector, customer_id: str, purpose: str | None = None
) -> ConsentFacts:
    """Consent history (for `purpose`, or all) and age of a live customer.

    Raises NotFound for an unknown customer and Gone for an erased one.
    """
    customers = store_tables()["customers"]
    query = select(customers.c.id, customers.c.erased_at, *(customers.c[n] for n in AGE_FIELDS))
    async with db.reader.connect() as conn:
        row = (await conn.execute(query.where(customers.c.id == customer_id))).first()
        if row is None:
            msg = "no customers record with that id"
            raise NotFound(msg)
        if row.erased_at is not None:
            msg = "this customer's personal information was erased"
            raise Gone(msg, reason="erased")
        events = await consent_events(conn, [customer_id], purpose)
    revealed = await protector.reveal("customers", [row._mapping], AGE_FIELDS)
    minor = minor_of(revealed.rows[0], dt.datetime.now(dt.UTC).date())
    return ConsentFacts(customer_id=customer_id, events=tuple(events), minor=minor)
