"""RFC 9457 problem details: the one place where exceptions become HTTP responses."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException

from gateway.db.faults import store_fault
from gateway.http.errors import GatewayError
from gateway.policy.errors import (
    ApiKeyRevoked,
    NoChange,
    PolicyChangeError,
    PolicyChangeRejected,
    PolicyTargetExists,
    PolicyTargetNotFound,
    SelfGrantRefused,
    SeparationOfDuties,
    VersionConflict,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("wardgate.errors")

# Litestar's own errors (routing, body size, parameter parsing) get stable reasons too.
_HTTP_REASONS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}
_HTTP_DETAILS = {
    404: "no such resource",
    405: "this method is not allowed on this resource",
    413: "the request body is larger than this gateway accepts",
}


def problem_body(
    status: int,
    title: str,
    detail: str,
    reason: str,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:wardgate:problem:{reason}",
        "title": title,
        "status": status,
        "detail": detail,
        "reason": reason,
    }
    if errors:
        body["errors"] = errors
    return body


def _note_reason(request: Request[Any, Any, Any], reason: str) -> None:
    from gateway.compliance.request_audit import AUDIT_STATE_KEY, RequestAudit

    audit = request.scope.get("state", {}).get(AUDIT_STATE_KEY)
    if isinstance(audit, RequestAudit) and audit.reason is None:
        audit.reason = reason


def gateway_error_handler(request: Request[Any, Any, Any], exc: GatewayError) -> Response[Any]:
    _note_reason(request, exc.reason)
    if exc.status >= 500:
        # A store that failed under a write or an audit append: say which fault.
        fault = store_fault(exc)
        log.warning(
            "request failed",
            status=exc.status,
            reason=exc.reason,
            fault=fault.value if fault else None,
        )
    else:
        log.info("request refused", status=exc.status, reason=exc.reason)
    body = problem_body(
        exc.status, exc.title, exc.detail, exc.reason, [e.to_json() for e in exc.errors]
    )
    body.update({k: v for k, v in exc.extensions.items() if k not in body})
    return Response(content=body, status_code=exc.status, media_type=PROBLEM_MEDIA_TYPE)


# Policy changes refused by the change service: (status, title) by exception type.
_POLICY_STATUS: dict[type[PolicyChangeError], tuple[int, str]] = {
    PolicyChangeRejected: (422, "Invalid policy"),
    VersionConflict: (409, "Policy version conflict"),
    SelfGrantRefused: (403, "Forbidden"),
    SeparationOfDuties: (403, "Forbidden"),
    NoChange: (409, "No change"),
    PolicyTargetExists: (409, "Already exists"),
    PolicyTargetNotFound: (404, "Not found"),
    ApiKeyRevoked: (409, "Key revoked"),
}


def policy_change_status(exc: PolicyChangeError) -> tuple[int, str]:
    """The HTTP status and title of a refused policy change (the API's and the console's)."""
    return next(
        (value for kind, value in _POLICY_STATUS.items() if isinstance(exc, kind)),
        (400, "Bad request"),
    )


def policy_change_error_handler(
    request: Request[Any, Any, Any], exc: PolicyChangeError
) -> Response[Any]:
    """Policy messages name roles, purposes and rules: policy, never a customer value."""
    status, title = policy_change_status(exc)
    _note_reason(request, exc.reason)
    log.info("policy change refused", status=status, reason=exc.reason)
    errors: list[dict[str, str]] = []
    detail = str(exc)
    if isinstance(exc, PolicyChangeRejected):
        errors = [{"field": p.where, "reason": p.reason, "detail": p.message} for p in exc.problems]
        detail = f"the policy change was not applied: {len(errors)} problem(s), see errors"
    body = problem_body(status, title, detail, exc.reason, errors)
    if isinstance(exc, VersionConflict):
        body["latest_version"] = exc.latest
    return Response(content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    reason = _HTTP_REASONS.get(status, "bad_request" if status < 500 else "internal_error")
    _note_reason(request, reason)
    # Litestar's detail for validation errors can quote the offending input: use ours.
    detail = _HTTP_DETAILS.get(status, "the request could not be processed")
    if status == 400:
        detail = "a query or path parameter is malformed"
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = problem_body(status, title, detail, reason)
    return Response(
        content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=exc.headers
    )


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    _note_reason(request, "internal_error")
    # The type only: an exception message may quote stored values.
    log.error("unexpected error", error_type=type(exc).__name__)
    body = problem_body(500, "Internal error", "the gateway failed; see its logs", "internal_error")
    return Response(content=body, status_code=500, media_type=PROBLEM_MEDIA_TYPE)


def store_fault_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A store that cannot be reached or written is a 503 that names the fault; any other
    database error is a bug and goes to the generic handler (500)."""
    fault = store_fault(exc)
    if fault is None:
        return unexpected_error_handler(request, exc)
    _note_reason(request, "store_unavailable")
    # Which fault and the exception's type, never its message: it may quote a value.
    log.warning("store unavailable", fault=fault.value, error_type=type(exc).__name__)
    body = problem_body(
        503,
        "Store unavailable",
        f"the store cannot serve this request now ({fault.value}); retry later",
        "store_unavailable",
    )
    body["fault"] = fault.value
    return Response(
        content=body,
        status_code=503,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"Retry-After": "1"},
    )
