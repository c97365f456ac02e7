"""Erasure by crypto-shredding: `DELETE /v1/customers/{id}` (PIPL Art. 47).

The customer's data keys are destroyed in the key store, their blind indexes cleared
and the record marked erased, with the audit entry in the same transaction as the mark.
Their ciphertext stays where it is — in the live store and in every backup — and can no
longer be decrypted by anyone, because the only keys that opened it are gone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from gateway.compliance.entries import append_in_transaction
from gateway.customers.read import GovernedResult
from gateway.db.schema import blind_index_column, store_tables
from gateway.governance.call import GovernedCall
from gateway.http.errors import AuditUnavailable, Forbidden, Gone, NotFound


async def erase_customer(call: GovernedCall, customer_id: str) -> GovernedResult:
    if "erase" not in call.plan.policy.api_rights:
        msg = f"your roles may not erase customers for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="erase_not_allowed")
    table = store_tables()["customers"]
    entity = call.state.catalog.entity("customers")
    cleared = {blind_index_column(spec.name): None for spec in entity.fields if spec.blind_index}
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
            # Keys go first: if anything after fails, the data is unreadable anyway and
            # a retry completes the mark and the audit entry.
            destroyed = await call.state.protector.keystore.destroy(customer_id)
            await conn.execute(
                update(table)
                .where(table.c.id == customer_id)
                .values(erased_at=now, updated_at=now, **cleared)
            )
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
