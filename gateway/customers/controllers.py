"""Customer endpoints: parse the request, hand it to a pipeline, shape the response."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath

from gateway.compliance.request_audit import request_audit
from gateway.consents import service as consents
from gateway.customers import erase, lookup, read, write
from gateway.governance.call import GovernedCall, begin_call
from gateway.http.json_body import read_body
from gateway.state import GatewayState

AnyRequest = Request[Any, Any, Any]


def _call(request: AnyRequest, action: str, entity: str) -> GovernedCall:
    state: GatewayState = request.app.state.gateway
    return begin_call(
        state, request.headers, request_audit(request.scope["state"]), action=action, entity=entity
    )


async def _related_page(request: AnyRequest, entity: str, customer_id: str) -> dict[str, object]:
    call = _call(request, f"{entity}.list", entity)
    params = request.query_params
    result = await read.read_page(
        call,
        entity,
        limit=params.get("limit"),
        cursor=params.get("cursor"),
        customer_id=customer_id,
    )
    return result.to_json()


class CustomerController(Controller):
    path = "/v1/customers"
    tags = ["customers"]  # noqa: RUF012 - Litestar declares it as a plain attribute

    @get("/{customer_id:str}", summary="One customer, governed")
    async def get_customer(
        self, request: AnyRequest, customer_id: FromPath[str]
    ) -> dict[str, object]:
        call = _call(request, "customers.read", "customers")
        return (await read.read_one(call, "customers", customer_id)).to_json()

    @get("/", summary="A page of customers, or an exact lookup by phone, email or id_number")
    async def list_customers(self, request: AnyRequest) -> dict[str, object]:
        params = request.query_params
        if lookup.lookup_requested(params):
            call = _call(request, "customers.lookup", "customers")
            result = await lookup.lookup_customers(
                call, params, limit=params.get("limit"), cursor=params.get("cursor")
            )
            return result.to_json()
        call = _call(request, "customers.list", "customers")
        result = await read.read_page(
            call, "customers", limit=params.get("limit"), cursor=params.get("cursor")
        )
        return result.to_json()

    @get("/{customer_id:str}/interactions", summary="A customer's interactions, governed")
    async def list_interactions(
        self, request: AnyRequest, customer_id: FromPath[str]
    ) -> dict[str, object]:
        return await _related_page(request, "interactions", customer_id)

    @get("/{customer_id:str}/orders", summary="A customer's orders, governed")
    async def list_orders(
        self, request: AnyRequest, customer_id: FromPath[str]
    ) -> dict[str, object]:
        return await _related_page(request, "orders", customer_id)

    @post("/", summary="Create a customer: validated, audited")
    async def create_customer(self, request: AnyRequest) -> Response[dict[str, object]]:
        call = _call(request, "customers.create", "customers")
        result = await write.create_customer(call, await read_body(request))
        return Response(result.to_json(), status_code=201)

    @patch("/{customer_id:str}", summary="Update a customer: validated, audited")
    async def update_customer(
        self, request: AnyRequest, customer_id: FromPath[str]
    ) -> dict[str, object]:
        call = _call(request, "customers.update", "customers")
        return (await write.update_customer(call, customer_id, await read_body(request))).to_json()

    @delete("/{customer_id:str}", summary="Erase a customer by crypto-shredding", status_code=200)
    async def erase_customer(
        self, request: AnyRequest, customer_id: FromPath[str]
    ) -> dict[str, object]:
        call = _call(request, "customers.erase", "customers")
        return (await erase.erase_customer(call, customer_id)).to_json()

    @get("/{customer_id:str}/consents", summary="A customer's consents: current state and history")
    async def list_consents(
        self, request: AnyRequest, customer_id: FromPath[str]
    ) -> dict[str, object]:
        call = _call(request, "consents.read", "consents")
        return (await consents.list_consents(call, customer_id)).to_json()

    @post("/{customer_id:str}/consents", summary="Record a consent (PIPL Art. 14)")
    async def grant_consent(
        self, request: AnyRequest, customer_id: FromPath[str]
    ) -> Response[dict[str, object]]:
        call = _call(request, "consents.grant", "consents")
        result = await consents.grant(call, customer_id, await read_body(request))
        return Response(result.to_json(), status_code=201)

    @post(
        "/{customer_id:str}/consents/{consent_purpose:str}/withdraw",
        summary="Withdraw a consent (PIPL Art. 15): in force for the next request",
        status_code=200,
    )
    async def withdraw_consent(
        self, request: AnyRequest, customer_id: FromPath[str], consent_purpose: FromPath[str]
    ) -> dict[str, object]:
        call = _call(request, "consents.withdraw", "consents")
        return (await consents.withdraw(call, customer_id, consent_purpose)).to_json()
