"""Audit event search: the compliance API's listing with filters, newest first, in
cursor pages; each row links to its entry. One audit entry per page viewed (an
`audit.events.list` read, as the API call it stands for)."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from audit import Outcome
from gateway.compliance import reads as audit_reads
from gateway.console.filters import AnyRequest, as_iso, link, present, query_of
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer, require
from gateway.http.errors import GatewayError

FILTERS = ("principal", "purpose", "action", "outcome", "reason", "customer_id", "since", "until")
OUTCOMES = tuple(outcome.value for outcome in Outcome)
PAGE_SIZE = "50"


@get("/audit", include_in_schema=False, opt=audited("audit.events.list"))
async def audit_events(viewer: NamedDependency[Viewer], request: AnyRequest) -> Template:
    require(viewer, compliance=True)
    query = query_of(request)
    chosen = present(query, FILTERS)
    params = {
        **{k: v for k, v in chosen.items() if k not in ("since", "until")},
        "limit": PAGE_SIZE,
        "order": "desc",
    }
    for name in ("since", "until"):
        if (value := as_iso(chosen.get(name), viewer.session.time_zone)) is not None:
            params[name] = value
    if cursor := query.get("cursor"):
        params["cursor"] = cursor
    context: dict[str, Any] = {
        "filters": chosen,
        "outcomes": OUTCOMES,
        "current_path": "/console/audit",
    }
    try:
        result = await audit_reads.list_events(viewer.call("audit.events.list"), params)
    except GatewayError as exc:
        viewer.audit.outcome = Outcome.INVALID
        viewer.audit.reason = exc.reason
        field = next((p.field for p in exc.errors), None)
        return page(
            "audit_events.html",
            viewer,
            status=exc.status,
            events=[],
            error=exc.reason,
            error_field=field,
            next_link=None,
            **context,
        )
    next_link = None
    if result.next_cursor:
        next_link = link("/console/audit", {**chosen, "cursor": result.next_cursor})
    return page(
        "audit_events.html",
        viewer,
        events=result.data,
        error=None,
        error_field=None,
        next_link=next_link,
        first_link=link("/console/audit", chosen) if query.get("cursor") else None,
        **context,
    )
