"""The audit guard: every /v1 request leaves exactly one audit entry, or gets no data.

It wraps the whole Litestar application (outside its router, so even an unknown path
or an oversized body is seen). It gives each request an audit context and a request
id, and when the response starts it makes sure the entry is committed: if the pipeline
already wrote it (successful reads and writes, which need the entry's sequence number
in the body) nothing more happens; otherwise the guard writes it now. If that write
fails, the response is replaced by a 503 and its body is dropped.

Which requests are /v1 requests is decided by route, not by spelling (`gateway.http.
paths`): a path the router takes to a /v1 handler however it is written (`//v1/…`), or
one that names `v1` anywhere, is audited; a path a proxy could read differently from
the router (`/v1/../`, `%2F`) is refused with 404 before routing, and audited too.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from gateway.compliance.entries import append_now
from gateway.compliance.request_audit import AUDIT_STATE_KEY, RequestAudit
from gateway.http.errors import AuditUnavailable
from gateway.http.paths import bad_query_parameter, names_v1, non_canonical
from gateway.http.problems import PROBLEM_MEDIA_TYPE, problem_body
from gateway.state import GatewayState

AUDITED_OPT = "wardgate_audited"
"""A route handler whose `opt` holds this key set to True is audited like a /v1 route
(the console's pages: every request that reads or changes something)."""
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = structlog.get_logger("wardgate.access")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class AuditGuard:
    def __init__(
        self,
        app: ASGIApp,
        state_getter: Callable[[], GatewayState | None],
        observer: Callable[[Scope, int, float], None] | None = None,
    ) -> None:
        self.app = app
        self._state = state_getter
        # Told each HTTP request's scope, the status the client got (a response this
        # guard replaced with a 503 counts as that 503) and its seconds, once answered.
        self._observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        presented = _header(scope, b"x-request-id")
        request_id = (
            # 128 random bits as 32 hex digits, as uuid4().hex gave (which costs 5x more).
            presented if presented and _REQUEST_ID.match(presented) else secrets.token_hex(16)
        )
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        path: str = scope["path"]
        audited = names_v1(scope)
        audit = RequestAudit(request_id=request_id, method=scope["method"], path=path)
        # Every request carries the context, so a handler never runs without one; only
        # /v1 requests (by route, see `audited`) get their entry written.
        scope.setdefault("state", {})[AUDIT_STATE_KEY] = audit
        status_seen = 0
        suppress_body = False

        async def guarded_send(message: Message) -> None:
            nonlocal status_seen, suppress_body, audited
            if message["type"] == "http.response.start":
                status_seen = message["status"]
                # The route the router chose is the last word: a /v1 template is audited.
                audited = (
                    audited
                    or str(scope.get("path_template", "")).startswith("/v1")
                    or _declares_audit(scope)
                )
                if audited and not audit.written:
                    try:
                        await self._append(audit, status_seen)
                    except AuditUnavailable as exc:
                        suppress_body = True
                        await self._send_unavailable(send, request_id, exc)
                        return
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and suppress_body:
                return
            await send(message)

        try:
            if (refused := non_canonical(scope)) is not None:
                audit.reason = "non_canonical_path"
                detail = f"no such resource: the path is not in canonical form ({refused})"
                await _refuse(guarded_send, 404, "Not found", detail, audit.reason)
            elif (parameter := bad_query_parameter(scope)) is not None:
                audit.reason = "invalid_query"
                detail = f"query parameter {parameter} holds a control character"
                problem = {"field": parameter, "reason": "control_character"}
                await _refuse(guarded_send, 400, "Bad request", detail, audit.reason, problem)
            else:
                await self.app(scope, receive, guarded_send)
        finally:
            seconds = time.perf_counter() - started
            answered = 503 if suppress_body else status_seen
            access_log.info(
                "request",
                method=scope["method"],
                # The route template, never the raw path or query: a caller may put a
                # phone number in either, and lookups carry personal data by design.
                route=scope.get("path_template") or "<unmatched>",
                status=answered,
                ms=round(seconds * 1000, 2),
                audit_seq=audit.seq if audited else None,
            )
            structlog.contextvars.clear_contextvars()
            if self._observer is not None:
                # No response started: the server answers 500 for the application.
                self._observer(scope, answered or 500, seconds)

    async def _append(self, audit: RequestAudit, status: int) -> None:
        state = self._state()
        if state is None:
            msg = "the gateway is not ready"
            raise AuditUnavailable(msg)
        await append_now(state.appender, audit, status)

    async def _send_unavailable(self, send: Send, request_id: str, exc: AuditUnavailable) -> None:
        access_log.error("audit append failed; response withheld", reason=exc.reason)
        body = json.dumps(
            problem_body(503, exc.title, exc.detail, exc.reason), ensure_ascii=False
        ).encode()
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode("latin-1")),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _declares_audit(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    opt = getattr(handler, "opt", None)
    return isinstance(opt, dict) and opt.get(AUDITED_OPT) is True


async def _refuse(
    send: Send, status: int, title: str, detail: str, reason: str, *errors: dict[str, str]
) -> None:
    """A problem answered before routing (the guard's `send`, so it is audited)."""
    body = json.dumps(
        problem_body(status, title, detail, reason, list(errors)), ensure_ascii=False
    ).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def guard_state_getter(holder: dict[str, Any]) -> Callable[[], GatewayState | None]:
    def get() -> GatewayState | None:
        state = holder.get("state")
        return state if isinstance(state, GatewayState) else None

    return get
