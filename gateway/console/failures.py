"""Refusals and errors as console pages (HTML, in the visitor's language), not as
problem+json: a person reads them. A missing session sends the browser to sign in,
remembering only a console path to come back to (no open redirect).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect

from gateway.compliance.request_audit import AUDIT_STATE_KEY, RequestAudit
from gateway.console.errors import ConsoleRefusal, NotSignedIn
from gateway.console.i18n import negotiate, supported
from gateway.console.rendering import page
from gateway.console.viewer import VIEWER_STATE_KEY
from gateway.http.errors import GatewayError

AnyRequest = Request[Any, Any, Any]
SIGN_IN_PATH = "/console/sign-in"


def safe_next(raw: str | None) -> str:
    """A console path to go to after sign-in; anything else (another host, a scheme,
    `//evil`, a backslash) becomes the console's home."""
    if (
        not raw
        or not raw.startswith("/console")
        or raw.startswith("//")
        or "\\" in raw
        or any(ord(c) < 0x21 for c in raw)
        or len(raw) > 512
    ):
        return "/console"
    return raw


def visitor_language(request: AnyRequest) -> str:
    chosen = supported(request.query_params.get("lang"))
    return chosen or negotiate(request.headers.get("accept-language"))


def _error_page(request: AnyRequest, status: int, reason: str) -> Response[Any]:
    state = request.scope.get("state", {})
    audit = state.get(AUDIT_STATE_KEY)
    if isinstance(audit, RequestAudit) and audit.reason is None:
        audit.reason = reason
    viewer = state.get(VIEWER_STATE_KEY)
    return page(
        "error.html",
        viewer,
        language=visitor_language(request),
        status=status,
        reason=reason,
        status_code=status,
    )


def not_signed_in(request: AnyRequest, _exc: NotSignedIn) -> Response[Any]:
    target = request.url.path if request.method == "GET" else "/console"
    query = f"?next={quote(safe_next(target), safe='/')}" if target != "/console" else ""
    return Redirect(f"{SIGN_IN_PATH}{query}", status_code=303)


def refused(request: AnyRequest, exc: ConsoleRefusal) -> Response[Any]:
    return _error_page(request, exc.status, exc.reason)


def gateway_error(request: AnyRequest, exc: GatewayError) -> Response[Any]:
    return _error_page(request, exc.status, exc.reason)


def http_error(request: AnyRequest, exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    return _error_page(request, status, "bad_request" if status < 500 else "unavailable")


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    NotSignedIn: not_signed_in,
    ConsoleRefusal: refused,
    GatewayError: gateway_error,
    HTTPException: http_error,
}
