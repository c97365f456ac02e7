"""Export a time range of the log: JSON Lines (the verifiable export: each entry as it
was hashed, with its leaf hash) or CSV for a spreadsheet. The download is one
`audit.export` entry, as in the API; the form page itself reads nothing from the log."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.response import Stream, Template

from gateway.compliance import reads as audit_reads
from gateway.compliance.export import MEDIA_TYPES
from gateway.console.filters import AnyRequest, as_iso, present, query_of
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer, require

ACTION = "audit.export"


@get("/export", include_in_schema=False, opt=audited("console.export_form"))
async def export_form(viewer: NamedDependency[Viewer]) -> Template:
    require(viewer, compliance=True)
    return page("export.html", viewer, current_path="/console/export")


@get("/export/download", include_in_schema=False, opt=audited(ACTION))
async def export_download(viewer: NamedDependency[Viewer], request: AnyRequest) -> Response[Any]:
    require(viewer, compliance=True)
    chosen = present(query_of(request), ("format", "since", "until"))
    zone = viewer.session.time_zone
    fmt, lines = await audit_reads.export(
        viewer.call(ACTION, "audit_events"),
        chosen.get("format"),
        as_iso(chosen.get("since"), zone),
        as_iso(chosen.get("until"), zone),
    )
    disposition = f'attachment; filename="wardgate-audit.{fmt.value}"'
    return Stream(lines, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})
