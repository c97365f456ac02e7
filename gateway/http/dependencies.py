"""Collaborators of the /v1 handlers, by dependency injection (registered once, in
`gateway.app`).

Handlers ask for `call: GovernedCall` and get the caller authenticated, its purpose
checked and its field plan taken (`gateway.governance.call.begin_call`), under the
action and entity that the handler's `ApiOperation` declares; `raw_body: RawBody` for
the body. No handler reaches into the application state, the request scope or the
query string: the query parameters it reads are the ones it declares.

The governed call is resolved from the request alone, in one step. Litestar runs the
dependencies of one level concurrently, in an anyio task group (two tasks and their
cancel scopes per request), and converts every provider's arguments through its
signature model (msgspec); asking for the gateway and the audit context as dependencies
of their own cost a governed read more than its authentication, consent and plan
together. `GovernedCallDependency` also skips the conversion of the handler's own
argument: the value is ours, built just above, and is not input to validate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from gateway.compliance.request_audit import RequestAudit, request_audit
from gateway.governance.call import GovernedCall, begin_call
from gateway.http.headers import RequestHeaders
from gateway.http.json_body import RequestBody, read_body
from gateway.http.operations import operation_of
from gateway.state import GatewayState

AnyRequest = Request[Any, Any, Any]


GovernedCallDependency = NamedDependency[SkipValidation[GovernedCall]]
"""`call: GovernedCallDependency`: a handler's governed call (`NamedDependency`, without
re-validating the value the provider just built)."""


def provide_gateway(request: AnyRequest) -> GatewayState:
    """The gateway built by the lifespan (engines, stores, key ring, policy snapshot)."""
    state = getattr(request.app.state, "gateway", None)
    if not isinstance(state, GatewayState):
        # Fail closed: no request is served before the lifespan has built the gateway.
        msg = "the gateway is not started"
        raise RuntimeError(msg)
    return state


def provide_audit(request: AnyRequest) -> RequestAudit:
    """This request's audit context, created by the audit guard."""
    return request_audit(request.scope["state"])


def provide_call(request: AnyRequest) -> GovernedCall:
    """Steps 1–3 of every /v1 call, for the operation this handler declares."""
    spec = operation_of(request.route_handler)
    if spec is None:
        # A /v1 handler without a declared operation would write an entry naming
        # nothing: refuse rather than guess.
        msg = f"route handler {request.route_handler.handler_name!r} declares no operation"
        raise RuntimeError(msg)
    # The query is parsed only for an operation whose action depends on it.
    action = spec.action if spec.action_for is None else spec.action_of(request.query_params)
    return begin_call(
        provide_gateway(request),
        RequestHeaders(request.scope["headers"]),
        provide_audit(request),
        action=action,
        entity=spec.entity,
    )


@dataclass(frozen=True, slots=True)
class RawBody:
    """The request body as sent, read when the handler asks for it: after the caller is
    authenticated and allowed, as before, and parsed by the pipeline (which names
    every bad field in one problem)."""

    _request: AnyRequest

    async def read(self) -> RequestBody:
        return await read_body(self._request)


def provide_raw_body(request: AnyRequest) -> RawBody:
    return RawBody(request)


DEPENDENCIES: dict[str, Provide] = {
    "gateway": Provide(provide_gateway, sync_to_thread=False),
    "audit": Provide(provide_audit, sync_to_thread=False),
    "call": Provide(provide_call, sync_to_thread=False),
    "raw_body": Provide(provide_raw_body, sync_to_thread=False),
}
