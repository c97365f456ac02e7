"""Prometheus metrics: what the gateway does and whether it can, never what it holds.

Every label takes its value from a closed set the gateway defines — a route TEMPLATE
(`/v1/customers/{customer_id}`, never the path a caller sent), an HTTP method from a
fixed list, a status code, a purpose the policy declares, an outcome, an effect or a
consent reason word — so no label can carry a value from the store, a customer id, an
API key or whatever a caller puts in a path or a header.

With several worker processes (`PROMETHEUS_MULTIPROC_DIR` set before start), counters
and histograms live in prometheus-client's shared files and a scrape of any worker
reports the sum of all of them; the figures computed at scrape time (readiness,
checkpoint age) come from the worker that answers, about the one store they share.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from typing import Any

from litestar.types import Scope
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from audit.schema import audit_tree
from gateway.compliance.checkpoints import latest_checkpoint
from gateway.compliance.entries import outcome_for_status
from gateway.compliance.request_audit import AUDIT_STATE_KEY, RequestAudit
from gateway.ops.readiness import Readiness
from gateway.state import GatewayState
from policies.consent import WithholdReason

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_EFFECTS = frozenset(
    {"clear", "masked", "pseudonymized", "scanned", "withheld", "written", "rejected"}
)
_CONSENT_REASONS = frozenset(reason.value for reason in WithholdReason)
_UNMATCHED = "<unmatched>"
_NONE = "none"
VERIFY_ACTION = "audit.verify"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def _values_in_shared_files() -> None:
    """prometheus-client chooses file-backed values when it is first imported, from the
    environment then; `serve --workers N` sets the directory before it imports the app,
    but whoever imported prometheus-client earlier (a test, a plugin) would leave this
    process counting in memory while scrapes read the files. Choose again, once."""
    if multiprocess_dir() is not None and not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


class _Series:
    """The children of one labelled metric, each looked up once: `labels()` checks the
    values and takes the metric's lock on every call, several times per request. Label
    values come from closed sets (see the module), so this holds no more entries than
    the metric has series."""

    __slots__ = ("_by_values", "_metric")

    def __init__(self, metric: Counter | Histogram) -> None:
        self._metric = metric
        self._by_values: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._by_values.get(values)
        if child is None:
            child = self._by_values[values] = self._metric.labels(*values)
        return child


class GatewayMetrics:
    """The instruments of one gateway process, on a registry of its own."""

    def __init__(self) -> None:
        # `*_created` series double every counter's series and say nothing to an operator.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        _values_in_shared_files()
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "wardgate_http_requests",
            "HTTP requests answered, by route template, method, status, purpose and outcome.",
            ["route", "method", "status", "purpose", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "wardgate_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by route template.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.decisions = Counter(
            "wardgate_policy_decisions",
            "Field decisions in governed requests, by effect (one per field per request).",
            ["effect"],
            registry=registry,
        )
        self.consent_refusals = Counter(
            "wardgate_consent_refusals",
            "Governed requests in which consent withheld a record or field, by reason.",
            ["reason"],
            registry=registry,
        )
        self.audit_append = Histogram(
            "wardgate_audit_append_seconds",
            "Time to write and commit one group-commit batch of audit entries.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.audit_batch = Histogram(
            "wardgate_audit_batch_size",
            "Audit entries committed together in one group-commit batch.",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.audit_failures = Counter(
            "wardgate_audit_append_failures",
            "Group-commit batches the audit log could not commit.",
            registry=registry,
        )
        self.verification_ok = Gauge(
            "wardgate_audit_last_verification_ok",
            "1 if the last audit log verification (GET /v1/audit/verify) passed, 0 if not.",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.verification_time = Gauge(
            "wardgate_audit_last_verification_timestamp_seconds",
            "When the last audit log verification ran (Unix time).",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self._requests = _Series(self.requests)
        self._latency = _Series(self.latency)
        self._decisions = _Series(self.decisions)
        self._consent_refusals = _Series(self.consent_refusals)

    def observe_request(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope.get("method", "")
        method = method if method in _METHODS else "OTHER"
        route = scope.get("path_template") or _UNMATCHED
        audit = scope.get("state", {}).get(AUDIT_STATE_KEY)
        purpose = outcome = _NONE
        # Every request carries an audit context; only /v1 requests (by route, or
        # audited however they were spelled) have a purpose and an outcome.
        if isinstance(audit, RequestAudit) and (audit.written or route.startswith("/v1")):
            # Set only once the policy is known to declare it: never the raw header.
            purpose = audit.purpose or _NONE
            outcome = (audit.outcome or outcome_for_status(status)).value
            self._observe_governance(audit)
        self._requests(route, method, str(status), purpose, outcome).inc()
        self._latency(route, method).observe(seconds)

    def _observe_governance(self, audit: RequestAudit) -> None:
        # One increment per effect, by the number of fields with it.
        effects: dict[str, int] = {}
        refusals: set[str] = set()
        for label in audit.fields.values():
            effect, _, why = label.partition(":")
            if effect in _EFFECTS:
                effects[effect] = effects.get(effect, 0) + 1
            if effect == "withheld" and why in _CONSENT_REASONS:
                refusals.add(why)
        for effect, fields in effects.items():
            self._decisions(effect).inc(fields)
        if audit.reason in _CONSENT_REASONS:
            refusals.add(audit.reason)
        for reason in refusals:
            self._consent_refusals(reason).inc()
        if audit.action == VERIFY_ACTION and "log" in audit.fields:
            self.verification_ok.set(1 if audit.fields["log"] == "verified" else 0)
            self.verification_time.set(time.time())

    def observe_batch(self, size: int, seconds: float, ok: bool) -> None:
        """The audit appender's observer: one call per group-commit batch."""
        if ok:
            self.audit_append.observe(seconds)
            self.audit_batch.observe(size)
        else:
            self.audit_failures.inc()

    async def render(self, state: GatewayState, readiness: Readiness) -> bytes:
        """The exposition: this process's (or all workers') instruments, then the figures
        computed now."""
        if multiprocess_dir() is not None:
            shared = CollectorRegistry()
            multiprocess.MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
            counted = generate_latest(shared)
        else:
            counted = generate_latest(self.registry)
        return counted + generate_latest(await _scrape_time(state, readiness))


class _Figures(Collector):
    """Gauges computed at scrape time, as metric families: no value object is made (in
    multiprocess mode each would be a file entry of this worker's, reported again, by
    pid, in every later scrape, and kept in prometheus-client's list for ever)."""

    def __init__(self, figures: list[tuple[str, str, float]]) -> None:
        self._figures = figures

    def collect(self) -> Iterator[Metric]:
        for name, documentation, value in self._figures:
            yield GaugeMetricFamily(name, documentation, value=value)


async def _scrape_time(state: GatewayState, readiness: Readiness) -> CollectorRegistry:
    nan = float("nan")
    figures = [
        ("wardgate_ready", "1 when /readyz would answer 200.", 1.0 if readiness.ready else 0.0),
        (
            "wardgate_store_up",
            "1 when the store answers queries.",
            0.0 if readiness.reason == "store_unavailable" else 1.0,
        ),
        (
            "wardgate_audit_up",
            "1 when an audit entry can be written.",
            1.0 if readiness.ready else 0.0,
        ),
        ("wardgate_policy_version", "Policy version in force.", float(state.snapshot.version)),
    ]
    age_help = "Seconds since the latest signed checkpoint of the audit log (NaN: none yet)."
    uncovered_help = "Audit entries appended after the latest signed checkpoint."
    entries_help = "Entries in the audit log."
    age = uncovered = entries = nan
    try:
        async with state.db.reader.connect() as conn:
            latest = await latest_checkpoint(conn)
            size = (await conn.execute(select(audit_tree.c.size))).scalar_one_or_none() or 0
    except (SQLAlchemyError, OSError):
        pass  # the store went away between the readiness check and now: unknown, not zero
    else:
        entries = float(size)
        if latest is None:
            uncovered = float(size)
        else:
            issued = dt.datetime.fromisoformat(latest.created_at)
            age = max(0.0, (dt.datetime.now(dt.UTC) - issued).total_seconds())
            uncovered = float(max(0, size - latest.tree_size))
    figures += [
        ("wardgate_audit_checkpoint_age_seconds", age_help, age),
        ("wardgate_audit_uncovered_entries", uncovered_help, uncovered),
        ("wardgate_audit_entries", entries_help, entries),
    ]
    registry = CollectorRegistry()
    registry.register(_Figures(figures))
    return registry
