"""The console's router: its pages, its one viewer dependency, its HTML error pages and
its vendored assets (htmx, CSS, script) served from the package, never from a CDN."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide
from litestar.router import Router
from litestar.static_files import create_static_files_router

from gateway.console import (
    access_report,
    audit_entry,
    audit_events,
    charts,
    consent_history,
    dsr_actions,
    dsr_detail,
    dsr_queue,
    export,
    home,
    log_health,
    sign_in,
)
from gateway.console.admin import ADMIN_ROUTES
from gateway.console.approvals import APPROVALS_ROUTES
from gateway.console.failures import EXCEPTION_HANDLERS
from gateway.console.viewer import provide_viewer

STATIC = Path(__file__).parent / "static"


def console_router() -> Router:
    return Router(
        path="/console",
        route_handlers=[
            sign_in.sign_in_form,
            sign_in.sign_in,
            sign_in.sign_out,
            sign_in.switch_language,
            home.home,
            *APPROVALS_ROUTES,
            audit_events.audit_events,
            audit_entry.audit_entry,
            log_health.log_health,
            log_health.verify_log,
            access_report.access_report,
            access_report.access_report_csv,
            consent_history.consent_history,
            charts.charts,
            export.export_form,
            export.export_download,
            *ADMIN_ROUTES,
            dsr_queue.dsr_queue,
            dsr_detail.dsr_detail,
            dsr_actions.dsr_action,
            dsr_actions.dsr_download,
            dsr_actions.dsr_set_hold,
            dsr_actions.dsr_release_hold,
            create_static_files_router(
                path="/static", directories=[STATIC], include_in_schema=False
            ),
        ],
        dependencies={"viewer": Provide(provide_viewer)},
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
