"""Log health: the latest signed checkpoint, the tree size, the time since the last
checkpoint, and "verify the whole log now" (its result names the first bad sequence
number when the log does not verify). The page is an `audit.checkpoint` read; the
verification an `audit.verify`, exactly as in the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from gateway.compliance import log_reader
from gateway.compliance import reads as audit_reads
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer, require

AnyRequest = Request[Any, Any, Any]


def _age_seconds(created_at: object) -> int | None:
    if not isinstance(created_at, str):
        return None
    try:
        then = dt.datetime.fromisoformat(created_at)
    except ValueError:
        return None
    return max(0, int((dt.datetime.now(dt.UTC) - then).total_seconds()))


async def _health(viewer: Viewer) -> dict[str, Any]:
    checkpoint = await audit_reads.latest_checkpoint(viewer.call("audit.checkpoint"), refresh=False)
    async with viewer.state.db.reader.connect() as conn:
        size = await log_reader.tree_size(conn)
    return {
        "checkpoint": checkpoint,
        "log_size": size,
        "age": _age_seconds(checkpoint.get("created_at")),
        "signer": viewer.state.checkpoints.signer.name,
    }


@get("/log", include_in_schema=False, opt=audited("audit.checkpoint"))
async def log_health(viewer: NamedDependency[Viewer]) -> Template:
    require(viewer, compliance=True)
    return page(
        "log_health.html", viewer, report=None, current_path="/console/log", **await _health(viewer)
    )


@post("/log/verify", include_in_schema=False, opt=audited("audit.verify"), status_code=200)
async def verify_log(viewer: NamedDependency[Viewer], request: AnyRequest) -> Template:
    require(viewer, compliance=True)
    result = await audit_reads.verify(viewer.call("audit.verify"))
    report = result.data
    if request.headers.get("hx-request") == "true":
        # htmx swaps just the result into the page it was asked from.
        return page("log_verify_result.html", viewer, report=report)
    async with viewer.state.db.reader.connect() as conn:
        size = await log_reader.tree_size(conn)
    return page(
        "log_health.html",
        viewer,
        report=report,
        checkpoint=None,
        log_size=size,
        age=None,
        signer=viewer.state.checkpoints.signer.name,
        current_path="/console/log",
    )
