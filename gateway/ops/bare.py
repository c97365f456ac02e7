"""UNGOVERNED read path, for `make bench` only (WARDGATE_BENCH_BARE=1).

It reads the same rows through the same server stack and the same store path as the
governed reads (`Database.fetch_first/fetch_all`) with no authentication, policy,
masking or audit, so the benchmark can report what governance costs. It is not
mounted unless the setting is on, and `wardgate serve` warns loudly when it is.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from sqlalchemy import bindparam, select

from gateway.customers.read import parse_limit
from gateway.db.schema import customers_table
from gateway.state import GatewayState

_customers = customers_table()
_ONE = select(_customers).where(_customers.c.id == bindparam("record_id"))
_PAGE = (
    select(_customers)
    .where(_customers.c.id > bindparam("after_id"))
    .order_by(_customers.c.id)
    .limit(bindparam("limit"))
)


@get("/bench/bare/customers/{customer_id:str}", include_in_schema=False)
async def bare_customer(
    request: Request[Any, Any, Any], customer_id: FromPath[str]
) -> dict[str, object]:
    state: GatewayState = request.app.state.gateway
    row = await state.db.fetch_first(_ONE, {"record_id": customer_id})
    if row is None:
        raise NotFoundException
    return {"data": dict(row._mapping)}


@get("/bench/bare/customers", include_in_schema=False)
async def bare_customers(request: Request[Any, Any, Any]) -> dict[str, object]:
    state: GatewayState = request.app.state.gateway
    limit = parse_limit(request.query_params.get("limit"))
    after = request.query_params.get("after", "")
    rows = await state.db.fetch_all(_PAGE, {"after_id": after, "limit": limit})
    return {"data": [dict(row._mapping) for row in rows]}
