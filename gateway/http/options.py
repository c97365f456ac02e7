"""`OPTIONS` answers list every method of the path.

Litestar 2 builds a path's default OPTIONS handler when the path's first handler is
registered, and keeps it when later handlers join the same path: its `Allow` then names
only the first method (litestar-org/litestar#4169, fixed in Litestar 3 only), so
`OPTIONS /v1/customers` said `OPTIONS, POST` without `GET`. This hook rewrites `Allow`
on the way out from the route the request was routed to, which holds all its methods.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import HttpMethod
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope


def _route_methods(app: Litestar, handler: object) -> str | None:
    # A dozen routes, walked only for OPTIONS requests: no cache to keep in step.
    for route in app.routes:
        if isinstance(route, HTTPRoute) and any(h is handler for h in route.route_handlers):
            return ", ".join(sorted(route.methods))
    return None


async def allow_every_method(message: Message, scope: Scope) -> None:
    """A `before_send` hook: `Allow` of an OPTIONS answer names all the path's methods."""
    if message["type"] != "http.response.start" or scope.get("method") != HttpMethod.OPTIONS:
        return
    handler = scope.get("route_handler")
    app = scope.get("litestar_app")
    if handler is None or not isinstance(app, Litestar):
        return
    methods = _route_methods(app, handler)
    if methods is not None:
        MutableScopeHeaders.from_message(message)["Allow"] = methods
