"""Application assembly: one lifespan builds the expensive parts, one place wires routes."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar
from litestar.exceptions import HTTPException
from sqlalchemy.exc import SQLAlchemyError

from gateway.aggregates.controllers import aggregates
from gateway.approvals.controllers import ApprovalController
from gateway.compliance.controllers import AuditController, access_report
from gateway.console.rendering import template_config
from gateway.console.routes import console_router
from gateway.console.security_headers import console_headers
from gateway.customers.controllers import CustomerController
from gateway.dsr.controllers import DsrController
from gateway.http.audit_guard import AuditGuard, guard_state_getter
from gateway.http.dependencies import DEPENDENCIES
from gateway.http.docs_ui import assets_router, root
from gateway.http.errors import GatewayError
from gateway.http.openapi import openapi_config
from gateway.http.options import allow_every_method
from gateway.http.problems import (
    gateway_error_handler,
    http_error_handler,
    policy_change_error_handler,
    store_fault_handler,
    unexpected_error_handler,
)
from gateway.logging import configure_logging
from gateway.ops.bare import bare_customer, bare_customers
from gateway.ops.floor import floor, worker
from gateway.ops.health import healthz, metrics, readyz
from gateway.ops.metrics import GatewayMetrics
from gateway.ops.readiness import ReadinessProbe
from gateway.pii.controllers import scan
from gateway.policy.controllers import PolicyController
from gateway.policy.errors import PolicyChangeError
from gateway.policy.reload import PolicyReloader
from gateway.retention.controllers import LegalHoldController
from gateway.retention.schedule import RetentionSchedule
from gateway.settings import Settings, get_settings
from gateway.state import PlanWarmUp, open_gateway

log = structlog.get_logger("wardgate")


def create_litestar(
    settings: Settings, holder: dict[str, Any], instruments: GatewayMetrics | None = None
) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Ready once the detector and the policy engine are; plans compile meanwhile.
        state = await open_gateway(settings, warm=PlanWarmUp.LATER)
        if instruments is not None:
            state.appender.observer = instruments.observe_batch
        state.appender.start()
        state.checkpoints.start()
        reloader = PolicyReloader.for_state(state)
        schedule = (
            RetentionSchedule(
                state.db,
                state.protector.keystore,
                state.catalog,
                interval=dt.timedelta(seconds=settings.retention_interval_seconds),
                check_seconds=settings.retention_check_seconds,
            )
            if settings.retention_schedule
            else None
        )
        try:
            await reloader.start()
            if schedule is not None:
                schedule.start()
            app.state.gateway = state
            app.state.readiness = ReadinessProbe(state)
            app.state.metrics = instruments
            app.state.policy_reloader = reloader
            holder["state"] = state
            log.info("gateway ready", policy_version=state.snapshot.version)
            yield
        finally:
            if schedule is not None:
                await schedule.stop()
            await reloader.stop()
            await state.warmer.settle()
            await state.appender.close()
            await state.checkpoints.stop()
            state.scanner.close()
            with contextlib.suppress(Exception):
                # Cover the tail of the log with a signed head before going away.
                await state.checkpoints.issue()
            holder.pop("state", None)
            await state.db.dispose()

    handlers: list[Any] = [
        CustomerController,
        AuditController,
        PolicyController,
        LegalHoldController,
        DsrController,
        access_report,
        scan,
        aggregates,
        ApprovalController,
        healthz,
        readyz,
        root,
        assets_router(),
        console_router(),
    ]
    if instruments is not None:
        handlers.append(metrics)
    if settings.bench_bare_endpoint:
        handlers += [bare_customer, bare_customers, floor, worker]
    return Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        exception_handlers={
            GatewayError: gateway_error_handler,
            PolicyChangeError: policy_change_error_handler,
            HTTPException: http_error_handler,
            # Store faults are 503s; matched before the generic handler (most specific wins).
            SQLAlchemyError: store_fault_handler,
            OSError: store_fault_handler,
            Exception: unexpected_error_handler,
        },
        # Collaborators of the /v1 handlers (the governed call, the raw body), once.
        dependencies=DEPENDENCIES,
        request_max_body_size=settings.max_body_bytes,
        before_send=[allow_every_method, console_headers],
        template_config=template_config(),
        openapi_config=openapi_config(),
        debug=False,
        # gateway.logging owns logging: Litestar's default config would replace the root
        # handler, and third-party records would leave as plain text instead of JSON lines.
        logging_config=None,
    )


class WardgateApp(AuditGuard):
    """The ASGI application to serve: the audit guard around the Litestar app, telling
    the metrics (when on) every request's answer as the client got it."""

    def __init__(self, settings: Settings) -> None:
        holder: dict[str, Any] = {}
        self.settings = settings
        self.metrics = GatewayMetrics() if settings.metrics_enabled else None
        self.litestar = create_litestar(settings, holder, self.metrics)
        super().__init__(
            self.litestar,
            guard_state_getter(holder),
            observer=self.metrics.observe_request if self.metrics is not None else None,
        )


def create_app(settings: Settings | None = None) -> WardgateApp:
    """The app `wardgate serve` runs (in each worker too), with the server's logging."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json, serving=True)
    return WardgateApp(settings)
