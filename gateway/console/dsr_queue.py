"""The DSR queue: requests with type, status, due date and working days left (amber
when three or fewer, red when overdue), overdue first, filtered by status, type and
overdue. One audit entry per page viewed: the `dsr.list` read it stands for."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from gateway.console.dsr_access import require_dsr
from gateway.console.filters import AnyRequest, present, query_of
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer
from gateway.dsr import service
from gateway.dsr.machine import RequestType, Status
from gateway.http.errors import GatewayError

ACTION = "dsr.list"
FILTERS = ("status", "type", "overdue")
PAGE_SIZE = "100"
SOON_DAYS = 3
"""Working days left at or below which a request is shown amber."""


def urgency(request: dict[str, Any]) -> str:
    """`overdue`, `soon` or `` for a listed request (the colour of its days left)."""
    if request.get("overdue"):
        return "overdue"
    left = request.get("days_left")
    if isinstance(left, int) and left <= SOON_DAYS:
        return "soon"
    return ""


@get("/dsr", include_in_schema=False, opt=audited(ACTION))
async def dsr_queue(viewer: NamedDependency[Viewer], request: AnyRequest) -> Template:
    require_dsr(viewer)
    filters = present(query_of(request), FILTERS)
    context: dict[str, Any] = {
        "filters": filters,
        "statuses": tuple(s.value for s in Status),
        "types": tuple(t.value for t in RequestType),
        "urgency": urgency,
        "current_path": "/console/dsr",
    }
    try:
        result = await service.list_requests(
            viewer.call(ACTION, "dsr_requests"), {**filters, "limit": PAGE_SIZE}
        )
    except GatewayError as exc:
        viewer.audit.reason = exc.reason
        field = next((p.field for p in exc.errors), None)
        return page(
            "dsr/queue.html",
            viewer,
            status=exc.status,
            requests=[],
            error=exc.reason,
            error_field=field,
            **context,
        )
    return page(
        "dsr/queue.html", viewer, requests=result.data, error=None, error_field=None, **context
    )
