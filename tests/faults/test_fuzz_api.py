"""schemathesis against a real `wardgate serve` on loopback, as every demo principal.

Every operation of the OpenAPI document is fuzzed with valid (positive) and invalid
(negative) requests; each generated request is sent once per demo principal with its
key and purpose, and every answer goes through all of schemathesis' checks. A 5xx
fails the run, always. Other check failures (an answer the OpenAPI document does not
declare) are counted and printed; they fail the run only with STRICT_CHECKS on — to be
switched on once the OpenAPI document describes every answer (issue 9). The run is
bounded: MAX_EXAMPLES per operation and mode, no shrinking, a fixed seed.

(schemathesis' own pytest integration, `from_fixture(...).parametrize()`, reads a
private attribute pytest 9 no longer has, so the operations are driven here directly.)
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.schemas import APIOperation

from gateway.db.init_store import init_store
from gateway.settings import Settings
from tests.helpers.servers import Server, one_server

pytestmark = pytest.mark.fault

STRICT_CHECKS = os.environ.get("WARDGATE_FUZZ_STRICT_CHECKS", "").lower() in {"1", "true", "yes"}
"""Fail on any check failure, not only on 5xx: on once the OpenAPI document is complete."""
MAX_EXAMPLES = int(os.environ.get("WARDGATE_FUZZ_EXAMPLES", "5"))
PRINCIPALS = (
    ("support-desk", "customer_service"),
    ("marketing-app", "marketing"),
    ("analytics-job", "analytics"),
    ("compliance-officer", "compliance_audit"),
    ("security-admin", "policy_admin"),
    ("privacy-desk", "data_subject_request"),
)


@dataclass
class FuzzReport:
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    check_failures: Counter[str] = field(default_factory=Counter)
    without_cases: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"schemathesis: {self.calls} calls, {len(self.server_errors)} server errors, "
            f"{sum(self.check_failures.values())} check failures, "
            f"{len(self.without_cases)} operation modes without cases; statuses "
            f"{dict(sorted(self.statuses.items()))}"
        ]
        lines += [f"  5xx: {error}" for error in self.server_errors[:30]]
        lines += [f"  {n:5d}x {what}" for what, n in self.check_failures.most_common()]
        return "\n".join(lines)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    work = tmp_path_factory.mktemp("fuzz")
    settings = Settings(data_dir=work / "data")
    asyncio.run(init_store(settings, demo=True, customers=10))
    return settings, work


@pytest.fixture(scope="module")
def fuzz_server(fuzz_store: tuple[Settings, Path]) -> Iterator[Server]:
    settings, work = fuzz_store
    with one_server(settings, work / "server.log") as server:
        yield server


def _fuzz(
    operation: APIOperation,
    mode: GenerationMode,
    base: str,
    keys: dict[str, str],
    report: FuzzReport,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        for principal, purpose in PRINCIPALS:
            headers = {"Authorization": f"Bearer {keys[principal]}", "X-Purpose": purpose}
            response = case.call(base_url=base, headers=headers, timeout=30)
            report.calls += 1
            report.statuses[response.status_code] += 1
            if response.status_code >= 500:
                where = f"{case.method} {case.formatted_path} as {principal} ({mode.value})"
                report.server_errors.append(f"{where}: {response.status_code}")
                continue
            try:
                case.validate_response(response, headers=headers)
            except (Failure, FailureGroup) as exc:
                failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
                for failure in failures:
                    report.check_failures[f"{case.method} {operation.path}: {failure.title}"] += 1

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid (an operation without parameters or body): no cases.
        report.without_cases.append(f"{operation.label} ({mode.value})")


def test_given_fuzzed_requests_by_every_principal_then_no_5xx(
    fuzz_store: tuple[Settings, Path], fuzz_server: Server
) -> None:
    settings, work = fuzz_store
    keys = json.loads((settings.data_dir / "demo-keys.json").read_text())
    schema = schemathesis.openapi.from_url(f"{fuzz_server.base}/schema/openapi.json")
    report = FuzzReport()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, fuzz_server.base, keys, report)

    summary = report.summary()
    print("\n" + summary)
    (work / "fuzz-report.txt").write_text(summary + "\n")
    assert report.server_errors == [], summary
    if STRICT_CHECKS:
        assert not report.check_failures, summary
