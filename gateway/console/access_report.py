"""The PIPL access report of one customer: who accessed this person's data, when, for
which purpose, which fields with which effect; filtered by purpose and time; as a page
or a CSV download. Each is one `customers.access_report` entry naming its subject."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from gateway.compliance import reads as audit_reads
from gateway.compliance.export import BOM, csv_cell
from gateway.console.filters import AnyRequest, as_iso, link, present, query_of
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer, require

ACTION = "customers.access_report"
FILTERS = ("customer_id", "purpose", "since", "until")
CSV_COLUMNS = ("seq", "time", "principal", "on_behalf_of", "purpose", "action", "outcome")
CSV_TAIL = ("reason", "fields", "requested")


def _bounds(filters: Mapping[str, str], zone: str) -> tuple[str | None, str | None]:
    """The time filter in the log's own form (UTC ISO); BadRequest names a bad field."""
    return (
        audit_reads.normalized_time(as_iso(filters.get("since"), zone), "since"),
        audit_reads.normalized_time(as_iso(filters.get("until"), zone), "until"),
    )


def _kept(
    access: Mapping[str, Any], purpose: str | None, since: str | None, until: str | None
) -> bool:
    time = str(access.get("time", ""))
    return not (
        (purpose and access.get("purpose") != purpose)
        or (since and time < since)
        or (until and time >= until)
    )


async def _report(viewer: Viewer, filters: Mapping[str, str]) -> dict[str, Any]:
    # Checked before the report is read: a refused filter leaves its own entry (invalid).
    since, until = _bounds(filters, viewer.session.time_zone)
    call = viewer.call(ACTION, "customers")
    result = await audit_reads.access_report(call, filters["customer_id"])
    data = result.data if isinstance(result.data, dict) else {}
    purpose = filters.get("purpose")
    accesses = [a for a in data.get("accesses", []) if _kept(a, purpose, since, until)]
    return {**data, "accesses": accesses}


@get("/access-report", include_in_schema=False, opt=audited(ACTION))
async def access_report(viewer: NamedDependency[Viewer], request: AnyRequest) -> Template:
    require(viewer, compliance=True)
    filters = present(query_of(request), FILTERS)
    report = await _report(viewer, filters) if filters.get("customer_id") else None
    return page(
        "access_report.html",
        viewer,
        filters=filters,
        report=report,
        csv_link=link("/console/access-report.csv", filters),
        current_path="/console/access-report",
    )


def _csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


@get("/access-report.csv", include_in_schema=False, opt=audited(ACTION))
async def access_report_csv(
    viewer: NamedDependency[Viewer], request: AnyRequest
) -> Response[bytes]:
    require(viewer, compliance=True)
    filters = present(query_of(request), FILTERS)
    if not filters.get("customer_id"):
        filters["customer_id"] = ""
    report = await _report(viewer, filters)
    lines = [BOM + _csv_line((*CSV_COLUMNS, *CSV_TAIL))]
    for access in report["accesses"]:
        cells = [csv_cell(access.get(name)) for name in CSV_COLUMNS]
        cells += [csv_cell(access.get("reason")), csv_cell(access.get("fields") or {})]
        cells.append(csv_cell(access.get("requested") or []))
        lines.append(_csv_line(cells))
    name = f"access-report-{report.get('customer_id', 'customer')}.csv"
    return Response(
        "".join(lines).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
