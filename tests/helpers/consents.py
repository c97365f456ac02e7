"""Reading consent state back in tests: what the gateway derives from the history."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.consents.store import consent_events
from policies.consent import ConsentState, derive_states


async def consent_states(
    conn: AsyncConnection, customer_ids: Iterable[str], purpose: str
) -> dict[str, ConsentState]:
    """Current consent of each customer for one purpose."""
    states = derive_states(await consent_events(conn, customer_ids, purpose))
    return {customer: state for (customer, _), state in states.items()}
