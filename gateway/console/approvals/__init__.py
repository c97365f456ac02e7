"""The console's approvals queue (issue 17, dual control for bulk export): pending
export requests of the viewer's purpose, one request with approve / deny forms. Every
screen calls the use cases of `gateway.approvals.service` (never their controllers)
under the viewer's governed call, so the right `approve_export`, the requester ≠
approver rule and the one audit entry per request are the API's own."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

from gateway.console.approvals import queue

APPROVALS_ROUTES: tuple[HTTPRouteHandler, ...] = (
    queue.pending_requests,
    queue.request_detail,
    queue.approve_request,
    queue.deny_request,
)

__all__ = ["APPROVALS_ROUTES"]
