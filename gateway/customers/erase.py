"""Erasure by crypto-shredding: `DELETE /v1/customers/{id}` (PIPL Art. 47).

The customer's data keys are destroyed in the key store, their blind indexes cleared
and the record marked erased, with the audit entry in the same transaction as the mark.
Their ciphertext stays where it is — in the live store and in every backup — and can no
longer be decrypted by anyone, because the only keys that opened it are gone.

A customer under a legal hold (`gateway.retention.holds`) is not erased: 409
`legal_hold`. `shred_customers` is the erasure itself, shared by this API door and by retention
(`gateway.retention.run`), which erases lapsed customers in batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.compliance.entries import append_in_transaction
from gateway.customers.read import GovernedResult
from gateway.db.schema import blind_index_column, store_tables
from gateway.governance.call import GovernedCall
from gateway.http.errors import AuditUnavailable, Conflict, Forbidden, Gone, NotFound
from gateway.retention.holds import is_on_legal_hold
from keys import KeyStore
from policies.catalog import Entity


async def shred_customers(
    conn: AsyncConnection,
    keystore: KeyStore,
    entity: Entity,
    customer_ids: Sequence[str],
    erased_at: str,
    *,
    unless: ColumnElement[bool] | None = None,
) -> dict[str, int]:
    """Erase these customers inside the caller's transaction, which must also append
    their audit entry; returns the keys destroyed per customer actually erased.

    The mark is claimed first (`erased_at IS NULL` in the UPDATE), so of two runs racing
    for one customer only the one whose UPDATE changed the row erases it: the other waits
    on the row (the writer lock on SQLite) and then finds it marked. The keys are
    destroyed next, before the caller commits: if the commit then fails, the data is
    unreadable anyway and a retry completes the mark and the audit entry. Customers
    matching `unless` (a condition on the customers table, e.g. an active legal hold)
    are left alone.
    """
    table = store_tables()["customers"]
    cleared = {blind_index_column(spec.name): None for spec in entity.fields if spec.blind_index}
    destroyed: dict[str, int] = {}
    for customer_id in customer_ids:
        claim = update(table).where(table.c.id == customer_id, table.c.erased_at.is_(None))
        if unless is not None:
            claim = claim.where(~unless)
        claimed = await conn.execute(
            claim.values(erased_at=erased_at, updated_at=erased_at, **cleared)
        )
        if claimed.rowcount == 1:
            destroyed[customer_id] = await keystore.destroy(customer_id)
    return destroyed


async def erase_customer(call: GovernedCall, customer_id: str) -> GovernedResult:
    if "erase" not in call.plan.policy.api_rights:
        msg = f"your roles may not erase customers for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="erase_not_allowed")
    table = store_tables()["customers"]
    entity = call.state.catalog.entity("customers")
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    try:
        async with call.state.db.writer.begin() as conn:
            row = (
                await conn.execute(select(table.c.erased_at).where(table.c.id == customer_id))
            ).first()
            if row is None:
                msg = "no customers record with that id"
                raise NotFound(msg)
            call.audit.record_ids = call.audit.subject_ids = (customer_id,)
            if row.erased_at is not None:
                msg = "this customer's personal information was already erased"
                raise Gone(msg, reason="erased")
            if await is_on_legal_hold(conn, customer_id):
                msg = "this customer is under a legal hold: their data must be kept"
                raise Conflict(msg, reason="legal_hold")
            shredded = await shred_customers(
                conn, call.state.protector.keystore, entity, [customer_id], now
            )
            destroyed = shredded.get(customer_id, 0)
            call.audit.fields = {"*": f"erased:{destroyed}_keys_destroyed"}
            seq = await append_in_transaction(conn, call.audit, 200)
    except SQLAlchemyError as exc:
        call.audit.seq = None
        msg = "the erasure could not be recorded; retry it"
        raise AuditUnavailable(msg) from exc
    return GovernedResult(
        data={"id": customer_id, "erased": True, "erased_at": now},
        governance={
            "purpose": call.purpose.id,
            "policy_version": call.plan.version,
            "audit_id": seq,
        },
    )
