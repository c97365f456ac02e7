"""The charts screen: seven days of the log as server-rendered SVG (an audit read,
`audit.activity`, with its own entry)."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from gateway.compliance.activity import activity
from gateway.console.dates import zone_named
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.svg_charts import horizontal_bars, stacked_columns
from gateway.console.viewer import Viewer, require

ACTION = "audit.activity"


@get("/charts", include_in_schema=False, opt=audited(ACTION))
async def charts(viewer: NamedDependency[Viewer]) -> Template:
    require(viewer, compliance=True)
    summary = await activity(viewer.call(ACTION), zone_named(viewer.session.time_zone))
    return page(
        "charts.html",
        viewer,
        per_purpose=stacked_columns(summary.days, summary.per_purpose_day),
        denials=horizontal_bars(list(summary.denials_by_reason.items())),
        readers=horizontal_bars(summary.top_readers),
        summary=summary,
        current_path="/console/charts",
    )
