"""Security headers on every console response, pages, redirects, errors and assets alike.

A `before_send` hook (not an after-request hook) so that responses made by exception
handlers carry them too. The policy allows scripts and styles from the gateway itself
only: no inline script or style, no eval, no framing, no referrer, nothing cached.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CONSOLE_PREFIX = "/console"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def is_console(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith(CONSOLE_PREFIX)


async def console_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start" or not is_console(scope):
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        headers[name] = value
