"""Whether a legal hold keeps a customer's data from being deleted (PIPL Art. 47 (2)).

The one door deletion asks. Holds are set and released by the DPO in the `legal_holds`
table of the retention work (issue 15 item 5); until that table exists in a store,
no customer is on hold. A hold counts while its `released_at` is empty.
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

HOLDS_TABLE = "legal_holds"


async def is_on_legal_hold(conn: AsyncConnection, customer_id: str) -> bool:
    exists = await conn.run_sync(lambda sync: inspect(sync).has_table(HOLDS_TABLE))
    if not exists:
        return False
    found = await conn.execute(
        text(
            f"SELECT 1 FROM {HOLDS_TABLE} "  # noqa: S608 - a fixed table name
            "WHERE customer_id = :customer_id AND released_at IS NULL"
        ),
        {"customer_id": customer_id},
    )
    return found.first() is not None
