"""Gateway exceptions. Each carries its HTTP status and a stable reason word.

Messages are written for the caller and never include a value from the store or from
the request body; field problems name the field and the reason only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class GatewayError(Exception):
    status: int = 400
    title: str = "Bad request"
    reason: str = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        reason: str | None = None,
        errors: tuple[FieldProblem, ...] = (),
        extensions: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if reason is not None:
            self.reason = reason
        self.errors = errors
        self.extensions = dict(extensions or {})
        """Extension members of the problem (RFC 9457 §3.2), e.g. a request's current
        status on a 409: words of the gateway's own, never a stored value."""


class NotAuthenticated(GatewayError):
    status, title, reason = 401, "Not authenticated", "unauthenticated"


class BadRequest(GatewayError):
    status, title, reason = 400, "Bad request", "bad_request"


class Forbidden(GatewayError):
    status, title, reason = 403, "Forbidden", "forbidden"


class NotFound(GatewayError):
    status, title, reason = 404, "Not found", "not_found"


class Conflict(GatewayError):
    status, title, reason = 409, "Conflict", "conflict"


class Gone(GatewayError):
    status, title, reason = 410, "Gone", "gone"


class IncompleteBody(GatewayError):
    status, title, reason = 408, "Request timeout", "incomplete_body"


class PayloadTooLarge(GatewayError):
    status, title, reason = 413, "Payload too large", "payload_too_large"


class UnsupportedMediaType(GatewayError):
    status, title, reason = 415, "Unsupported media type", "unsupported_media_type"


class Unprocessable(GatewayError):
    status, title, reason = 422, "Invalid fields", "invalid_fields"


class TooManyRequests(GatewayError):
    status, title, reason = 429, "Too many requests", "too_many_requests"


class AuditUnavailable(GatewayError):
    status, title, reason = 503, "Audit log unavailable", "audit_unavailable"
