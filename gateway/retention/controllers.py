"""Legal hold API for the DPO: set, release and read a customer's holds.

`legal_hold:write` sets and releases, `legal_hold:read` reads the history (default
policy: role `dpo` under purpose `data_subject_request`; compliance reads). The right
is checked before the body is read. Each request leaves one audit entry, naming the
customer and the reason word, never the note.
"""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from gateway.customers.live import live_customer
from gateway.db.schema import customers_table
from gateway.governance.call import GovernedCall
from gateway.http.dependencies import GovernedCallDependency, RawBody
from gateway.http.errors import AuditUnavailable, Forbidden
from gateway.http.json_body import parse_json_object
from gateway.http.operations import merge, operation
from gateway.retention import holds
from gateway.retention.schemas import HoldRelease, HoldSet
from gateway.retention.service import change_hold

Json = dict[str, object]

_CUSTOMER = {404: ("not_found",), 410: ("erased",)}
_WRITE = {403: ("legal_hold_not_allowed",)}
_BODY = {422: ("required", "unknown_reason", "invalid_type", "too_long")}


def _require(call: GovernedCall, right: str) -> None:
    if right not in call.plan.policy.api_rights:
        msg = f"your roles may not do this with legal holds for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="legal_hold_not_allowed")


async def _change(
    call: GovernedCall, raw_body: RawBody, customer_id: str, *, release: bool, status: int
) -> Json:
    _require(call, "legal_hold:write")
    body = parse_json_object(await raw_body.read(), shape="with reason and note")
    try:
        hold = await change_hold(
            call.state.db, call.audit, status, customer_id, body, release=release
        )
    except SQLAlchemyError as exc:
        call.audit.seq = None
        msg = "the legal hold could not be committed with its audit entry; nothing was stored"
        raise AuditUnavailable(msg) from exc
    return {
        "data": hold.to_json(),
        "governance": {
            "purpose": call.purpose.id,
            "policy_version": call.plan.version,
            "audit_id": call.audit.seq,
        },
    }


class LegalHoldController(Controller):
    path = "/v1/retention/holds"
    tags = ["retention"]  # noqa: RUF012 - Litestar declares it as a plain attribute

    @get(
        "/{customer_id:str}",
        summary="A customer's legal holds, oldest first, and whether one is active",
        opt=operation(
            "retention.hold.read",
            "legal_holds",
            problems=merge({403: ("legal_hold_not_allowed",)}, {404: ("not_found",)}),
        ),
    )
    async def read_holds(self, call: GovernedCallDependency, customer_id: FromPath[str]) -> Json:
        _require(call, "legal_hold:read")
        table = customers_table()
        async with call.state.db.reader.connect() as conn:
            row = (
                await conn.execute(select(table.c.erased_at).where(table.c.id == customer_id))
            ).first()
            if row is None:
                live_customer(None)
            call.audit.subject_ids = (customer_id,)
            history = await holds.hold_history(conn, customer_id)
        call.audit.fields = {"legal_hold": "read"}
        return {
            "data": {
                "customer_id": customer_id,
                "on_hold": any(h.active for h in history),
                "holds": [h.to_json() for h in history],
            },
            "governance": {"purpose": call.purpose.id, "policy_version": call.plan.version},
        }

    @post(
        "/{customer_id:str}",
        summary="Put a customer under a legal hold: retention and deletion keep them",
        opt=operation(
            "retention.hold.set",
            "legal_holds",
            body=HoldSet,
            problems=merge(_WRITE, _CUSTOMER, _BODY, {409: ("already_on_hold",)}),
        ),
    )
    async def set_hold(
        self,
        call: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        customer_id: FromPath[str],
    ) -> Response[Json]:
        result = await _change(call, raw_body, customer_id, release=False, status=201)
        return Response(result, status_code=201)

    @post(
        "/{customer_id:str}/release",
        summary="Release a customer's legal hold",
        status_code=200,
        opt=operation(
            "retention.hold.release",
            "legal_holds",
            body=HoldRelease,
            problems=merge(_WRITE, {404: ("not_found",)}, _BODY, {409: ("not_on_hold",)}),
        ),
    )
    async def release_hold(
        self,
        call: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        customer_id: FromPath[str],
    ) -> Json:
        return await _change(call, raw_body, customer_id, release=True, status=200)
