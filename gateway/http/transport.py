"""Transport limits of `wardgate serve`: what a connection may cost before any of it
reaches the application.

uvicorn's HTTP/1.1 protocol on httptools (llhttp) has no limit of its own on the size of
a request head, and no deadline for receiving one: a 64 MB header is read to the end,
and a client that sends a header byte every few seconds (slowloris) holds its
connection for ever. This protocol adds, per connection:

- a head size limit (`WARDGATE_HTTP_MAX_HEADER_BYTES`, request line and headers
  together): 431, counted on the raw bytes while the head is incomplete, so an
  oversized header is refused after at most one read beyond the limit, not buffered;
- a request-target limit (`WARDGATE_HTTP_MAX_REQUEST_LINE_BYTES`): 414;
- a head deadline (`WARDGATE_HTTP_HEADER_TIMEOUT_SECONDS`) from the connection's start,
  or from the first byte of the next request on a kept-alive connection: 408;
- a body deadline (`WARDGATE_HTTP_BODY_TIMEOUT_SECONDS`) from the end of the head to
  the end of the body: 408 if no answer has begun, else the connection is closed. The
  application's read of the body then ends as a client disconnect.

Each refusal answers with one short response and closes the connection; the
application never sees the request (so it is neither authenticated nor audited: there
is no request yet). Idle kept-alive connections and the number of connections per
worker are uvicorn's own settings (`timeout_keep_alive`, `limit_concurrency`, which
answers 503 beyond the limit — here as a problem document, `over_capacity`, where
uvicorn's own answer is plain text).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from gateway.settings import Settings

# Bytes a header line adds beyond its name and value (": " and CRLF), and the request
# line beyond its target (method, spaces, version, CRLF) at most.
_HEADER_OVERHEAD = 4
_REQUEST_LINE_OVERHEAD = 32

_REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
}
_MESSAGES = {
    400: "Invalid HTTP request received.",
    408: "the request was not received in time",
    414: "the request target is longer than this gateway accepts",
    431: "the request head is larger than this gateway accepts",
}


_OVER_CAPACITY = orjson.dumps(
    {
        "type": "urn:wardgate:problem:over_capacity",
        "title": "Service unavailable",
        "status": 503,
        "detail": "this gateway process is at its connection limit; retry shortly",
        "reason": "over_capacity",
    }
)


async def over_capacity(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """uvicorn's answer beyond `limit_concurrency`, as the problem document every other
    refusal is. Like the head refusals, it never reaches the application (no audit)."""
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(_OVER_CAPACITY)).encode()),
                (b"retry-after", b"1"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _OVER_CAPACITY, "more_body": False})


class _HeadRefused(Exception):
    """Raised from a parser callback to stop parsing a request that is refused."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with limits on the request head (see the module)."""

    max_head_bytes = 16_384
    max_target_bytes = 8_192
    head_timeout_seconds = 10.0
    body_timeout_seconds = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._head_raw = 0
        self._target_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._refusal: int | None = None

    # Connection lifetime -------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # The first request's head must arrive within the deadline, counted from now.
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None or self.transport.is_closing():
            return
        super().data_received(data)
        if self._in_head and self._refusal is None and not self.transport.is_closing():
            # Still inside an unfinished head: every byte of this read belongs to it (or
            # to the tail of the previous request: counting those too errs on the safe
            # side). The parser buffers an unfinished header itself, so this count is
            # what stops a huge header from being read to its end.
            self._head_raw += len(data)
            if self._head_raw > self.max_head_bytes:
                self._refuse(431)

    # Parser callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_raw = 0
        self._target_bytes = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._target_bytes += len(url)
        if self._target_bytes > self.max_target_bytes:
            self._refusal = 414
            raise _HeadRefused
        super().on_url(url)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        size = len(self.url) + _REQUEST_LINE_OVERHEAD
        size += sum(len(name) + len(value) + _HEADER_OVERHEAD for name, value in self.headers)
        if size > self.max_head_bytes:
            # Refused before the request's task starts: the application never runs.
            self._refusal = 431
            raise _HeadRefused
        super().on_headers_complete()
        if self._expects_body():
            self._body_timer = self.loop.call_later(self.body_timeout_seconds, self._body_timed_out)

    def on_message_complete(self) -> None:
        self._cancel_body_timer()
        super().on_message_complete()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        # uvicorn picks its plain-text 503 app when over `limit_concurrency`.
        chosen = over_capacity if app is service_unavailable else app
        super()._start_asgi_task(cycle, chosen)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers any parser error with this; a refusal raised from a callback
        # above arrives here as a parser error and is answered with its own status.
        self._refuse(self._refusal or 400)

    # Refusals ------------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout_seconds, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served: its head arrived in time
        if self._in_head or self.cycle is None:
            self._refuse(408)

    def _expects_body(self) -> bool:
        for name, value in self.headers:
            if name == b"content-length":
                return value.strip() not in (b"", b"0")
            if name == b"transfer-encoding":
                return True
        return False

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:
            # Too late for a status: the answer has begun (the application did not
            # wait for the body). Only the connection can go.
            self.transport.close()
            return
        self._refuse(408)

    def _refuse(self, status: int) -> None:
        self._refusal = status
        self._cancel_head_timer()
        if self.transport.is_closing():
            return
        body = _MESSAGES[status].encode()
        head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
        for name, value in self.server_state.default_headers:
            head += name + b": " + value + b"\r\n"
        head += (
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
        )
        self.transport.write(head + body)
        self.transport.close()


def bounded_protocol(settings: Settings) -> type[BoundedHttpToolsProtocol]:
    """The protocol class with this deployment's limits (uvicorn builds one per connection)."""
    return type(
        "WardgateHttpProtocol",
        (BoundedHttpToolsProtocol,),
        {
            "max_head_bytes": settings.http_max_header_bytes,
            "max_target_bytes": settings.http_max_request_line_bytes,
            "head_timeout_seconds": settings.http_header_timeout_seconds,
            "body_timeout_seconds": settings.http_body_timeout_seconds,
        },
    )


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of `uvicorn.run` / `uvicorn.Config` that bound each connection."""
    return {
        "http": bounded_protocol(settings),
        "timeout_keep_alive": settings.http_keepalive_seconds,
        "limit_concurrency": settings.http_max_connections,
    }
