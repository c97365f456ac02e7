"""Customer endpoints: parse the request, hand it to a pipeline, shape the response.

Each handler receives the governed call (`gateway.http.dependencies`) for the operation
it declares, the raw body where it takes one, and only the query parameters it declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from gateway.consents import service as consents
from gateway.consents.schemas import ConsentGrant
from gateway.customers import erase, lookup, read, write
from gateway.customers.schemas import CustomerCreate, CustomerUpdate
from gateway.http.dependencies import GovernedCallDependency, RawBody
from gateway.http.operations import NO_BODY, merge, operation
from gateway.http.query import Cursor, Limit, query
from policies.consent import WithholdReason
from policies.formats import REASONS as FIELD_REASONS

Json = dict[str, object]

_WITHHELD = tuple(reason.value for reason in WithholdReason)
_CUSTOMER = {404: ("not_found",), 410: ("erased",)}
# Reads past a purpose's daily export threshold need an approved export's token.
_EXPORT = ("approval_required", "export_token_invalid")
_READ = merge({403: ("no_access", *_WITHHELD, *_EXPORT)}, _CUSTOMER)
_PAGE = {400: ("invalid_limit", "invalid_cursor"), 403: ("no_access", *_WITHHELD, *_EXPORT)}
_LOOKUP = {
    400: ("one_lookup_field",),
    403: ("lookup_not_allowed",),
    422: ("invalid_phone", "invalid_email", "invalid_id_number", "invalid_type", "required"),
}
_WRITE = {
    403: ("write_not_allowed", "field_not_writable", *_WITHHELD),
    422: ("unknown_field", "no_fields", *sorted(FIELD_REASONS)),
}
_CONSENT_RIGHT = {403: ("consent_not_allowed",)}
_GRANT = {
    403: ("consent_not_allowed", "foreign_channel"),
    422: (
        "unknown_field",
        "required",
        "invalid_purpose",
        "invalid_channel",
        "invalid_notice_version",
        "unknown_purpose",
        "invalid_evidence",
        "invalid_expiry",
        "invalid_scope",
        "invalid_guardian",
        "guardian_required",
    ),
}


def _lookup(name: str, right: str) -> str:
    return (
        f"Exact lookup by {name} through its blind index (one lookup field at a time); "
        f"needs the lookup right on `customers.{right}`."
    )


Phone = Annotated[str | None, query(_lookup("phone", "phone"))]
Email = Annotated[str | None, query(_lookup("e-mail address", "email"))]
IdNumber = Annotated[str | None, query(_lookup("resident id number", "id_number"))]


def _list_action(params: Mapping[str, str]) -> str:
    return "customers.lookup" if lookup.lookup_requested(params) else "customers.list"


async def _related_page(
    call: GovernedCallDependency,
    entity: str,
    customer_id: str,
    limit: str | None,
    cursor: str | None,
) -> Json:
    result = await read.read_page(call, entity, limit=limit, cursor=cursor, customer_id=customer_id)
    return result.to_json()


class CustomerController(Controller):
    path = "/v1/customers"
    tags = ["customers"]  # noqa: RUF012 - Litestar declares it as a plain attribute

    @get(
        "/{customer_id:str}",
        summary="One customer, governed",
        opt=operation("customers.read", "customers", problems=_READ),
    )
    async def get_customer(self, call: GovernedCallDependency, customer_id: FromPath[str]) -> Json:
        return (await read.read_one(call, "customers", customer_id)).to_json()

    @get(
        "/",
        summary="A page of customers, or an exact lookup by phone, email or id_number",
        opt=operation(
            "customers.list",
            "customers",
            problems=merge(_PAGE, _LOOKUP),
            action_for=_list_action,
        ),
    )
    async def list_customers(
        self,
        call: GovernedCallDependency,
        limit: Limit = None,
        cursor: Cursor = None,
        phone: Phone = None,
        email: Email = None,
        id_number: IdNumber = None,
    ) -> Json:
        looked_up = {
            name: value
            for name, value in (("phone", phone), ("email", email), ("id_number", id_number))
            if value is not None
        }
        if looked_up:
            result = await lookup.lookup_customers(call, looked_up, limit=limit, cursor=cursor)
            return result.to_json()
        page = await read.read_page(call, "customers", limit=limit, cursor=cursor)
        return page.to_json()

    @get(
        "/{customer_id:str}/interactions",
        summary="A customer's interactions, governed",
        opt=operation("interactions.list", "interactions", problems=merge(_PAGE, _CUSTOMER)),
    )
    async def list_interactions(
        self,
        call: GovernedCallDependency,
        customer_id: FromPath[str],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Json:
        return await _related_page(call, "interactions", customer_id, limit, cursor)

    @get(
        "/{customer_id:str}/orders",
        summary="A customer's orders, governed",
        opt=operation("orders.list", "orders", problems=merge(_PAGE, _CUSTOMER)),
    )
    async def list_orders(
        self,
        call: GovernedCallDependency,
        customer_id: FromPath[str],
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Json:
        return await _related_page(call, "orders", customer_id, limit, cursor)

    @post(
        "/",
        summary="Create a customer: validated, audited",
        opt=operation("customers.create", "customers", body=CustomerCreate, problems=_WRITE),
    )
    async def create_customer(
        self, call: GovernedCallDependency, raw_body: NamedDependency[RawBody]
    ) -> Response[Json]:
        result = await write.create_customer(call, await raw_body.read())
        return Response(result.to_json(), status_code=201)

    @patch(
        "/{customer_id:str}",
        summary="Update a customer: validated, audited",
        opt=operation(
            "customers.update",
            "customers",
            body=CustomerUpdate,
            problems=merge(_WRITE, _CUSTOMER),
        ),
    )
    async def update_customer(
        self,
        call: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        customer_id: FromPath[str],
    ) -> Json:
        return (await write.update_customer(call, customer_id, await raw_body.read())).to_json()

    @delete(
        "/{customer_id:str}",
        summary="Erase a customer by crypto-shredding",
        status_code=200,
        opt=operation(
            "customers.erase",
            "customers",
            problems=merge({403: ("erase_not_allowed",), 409: ("legal_hold",)}, _CUSTOMER),
        ),
    )
    async def erase_customer(
        self, call: GovernedCallDependency, customer_id: FromPath[str]
    ) -> Json:
        return (await erase.erase_customer(call, customer_id)).to_json()

    @get(
        "/{customer_id:str}/consents",
        summary="A customer's consents: current state and history",
        opt=operation("consents.read", "consents", problems=merge(_CONSENT_RIGHT, _CUSTOMER)),
    )
    async def list_consents(self, call: GovernedCallDependency, customer_id: FromPath[str]) -> Json:
        return (await consents.list_consents(call, customer_id)).to_json()

    @post(
        "/{customer_id:str}/consents",
        summary="Record a consent (PIPL Art. 14)",
        opt=operation(
            "consents.grant", "consents", body=ConsentGrant, problems=merge(_GRANT, _CUSTOMER)
        ),
    )
    async def grant_consent(
        self,
        call: GovernedCallDependency,
        raw_body: NamedDependency[RawBody],
        customer_id: FromPath[str],
    ) -> Response[Json]:
        result = await consents.grant(call, customer_id, await raw_body.read())
        return Response(result.to_json(), status_code=201)

    @post(
        "/{customer_id:str}/consents/{consent_purpose:str}/withdraw",
        summary="Withdraw a consent (PIPL Art. 15): in force for the next request",
        status_code=200,
        opt=operation(
            "consents.withdraw",
            "consents",
            body=NO_BODY,
            problems=merge(_CONSENT_RIGHT, _CUSTOMER, {422: ("not_granted",)}),
        ),
    )
    async def withdraw_consent(
        self,
        call: GovernedCallDependency,
        customer_id: FromPath[str],
        consent_purpose: FromPath[str],
    ) -> Json:
        return (await consents.withdraw(call, customer_id, consent_purpose)).to_json()
