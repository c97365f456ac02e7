"""schemathesis against a real `wardgate serve` on loopback, as every demo principal.

Every operation of the OpenAPI document is fuzzed with valid (positive) and invalid
(negative) requests; each generated request is sent once per demo principal with its
key and purpose, and every answer goes through all of schemathesis' checks. Any failure
fails the run: a 5xx, an answer the document does not declare (status, reason word,
media type, schema), a schema-valid request refused, a schema-violating one accepted.

Where the document cannot state a rule (a checksum, a reference to something that must
exist, one of two fields, a time that must lie ahead), `SEMANTIC_REFUSALS` lets the
positive-data check accept that operation's documented refusal, each with its reason.
The run is bounded: MAX_EXAMPLES per operation and mode, no shrinking, a fixed seed.

(schemathesis' own pytest integration, `from_fixture(...).parametrize()`, reads a
private attribute pytest 9 no longer has, so the operations are driven here directly.)
"""

from __future__ import annotations

import asyncio
import json
import os
import time
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
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.schemas import APIOperation

from gateway.db.init_store import init_store
from gateway.settings import Settings
from tests.helpers.servers import Server, one_server

pytestmark = pytest.mark.fault

MAX_EXAMPLES = int(os.environ.get("WARDGATE_FUZZ_EXAMPLES", "8"))
"""Examples per operation and mode; each is sent by every demo principal."""
PRINCIPALS = (
    ("support-desk", "customer_service"),
    ("marketing-app", "marketing"),
    ("analytics-job", "analytics"),
    ("compliance-officer", "compliance_audit"),
    ("security-admin", "policy_admin"),
    ("privacy-desk", "data_subject_request"),
    ("data-steward", "analytics"),
)

PLACEHOLDER_CREDENTIALS = {"Authorization": "Bearer placeholder", "X-Purpose": "placeholder"}
"""Fixed in generation, so a negative case never 'mutates' the headers that each
principal's own then replace on the wire (the case would be valid as sent)."""

_POSITIVE_ANSWERS = ("2xx", "3xx", "401", "403", "404", "409", "429")
"""schemathesis' default for a schema-valid request (5xx is caught on its own)."""

_PRINTABLE = (
    "a change's `comment` is printable text (`str.isprintable`: no format, separator, "
    "private-use or unassigned characters), which a JSON Schema pattern cannot name"
)

_CURSOR = "`cursor` is opaque: only one this gateway issued for this listing is valid"

SEMANTIC_REFUSALS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("POST", "/v1/customers"): (
        ("422",),
        "phone numbers by numbering plan, ID-number checksum and birth date, a birth "
        "date not in the future, an email the address rules accept",
    ),
    ("PATCH", "/v1/customers/{customer_id}"): (
        ("422",),
        "as for create, and at least one field to change (`no_fields`)",
    ),
    ("POST", "/v1/customers/{customer_id}/consents"): (
        ("422",),
        "`expires_at` must lie in the future; the purpose must be one the policy declares",
    ),
    ("POST", "/v1/dsr"): (
        ("422",),
        "`changes` only on a correction request, and validated as PATCH "
        "/v1/customers/{customer_id} validates them",
    ),
    ("POST", "/v1/aggregates"): (
        ("422",),
        "`sum` and `mean` need a field and `count` takes none; fields and dimensions must "
        "be ones the catalog marks aggregatable and the policy opens for the purpose",
    ),
    ("POST", "/v1/approvals/requests"): (
        ("422",),
        "the scope names an entity and fields of the catalog in force (data that changes "
        "without a new schema, so no enum can state it) that the purpose may read",
    ),
    ("GET", "/v1/customers"): (
        ("400", "422"),
        "a lookup names exactly one of phone, email, id_number, each valid as in create; "
        + _CURSOR,
    ),
    ("GET", "/v1/customers/{customer_id}/interactions"): (("400",), _CURSOR),
    ("GET", "/v1/customers/{customer_id}/orders"): (("400",), _CURSOR),
    ("GET", "/v1/audit/events"): (("400",), _CURSOR),
    ("POST", "/v1/policy/explain"): (
        ("422",),
        "a principal or roles (one of two fields); names the policy must know",
    ),
    ("POST", "/v1/policy/rules"): (("422",), "the role, purpose and target must exist"),
    ("POST", "/v1/policy/principals"): (("422",), "its roles and purposes must exist"),
    ("PATCH", "/v1/policy/principals/{pid}"): (
        ("422",),
        "at least one field to change; roles and purposes that exist",
    ),
    ("POST", "/v1/policy/roles"): (("422",), "a role name of the policy's form, not taken"),
    ("POST", "/v1/policy/purposes"): (("422",), "categories and fields the catalog knows"),
    ("PATCH", "/v1/policy/purposes/{purpose_id}"): (
        ("422",),
        "categories and fields the catalog knows",
    ),
    ("POST", "/v1/policy/rollback/{version}"): (("422",), _PRINTABLE),
    ("DELETE", "/v1/policy/roles/{name}"): (("422",), _PRINTABLE),
    ("DELETE", "/v1/policy/rules/{rule_id}"): (("422",), _PRINTABLE),
    ("DELETE", "/v1/policy/principals/{pid}"): (("422",), _PRINTABLE),
    ("POST", "/v1/scan"): (("422",), "a language the analyzer has"),
    ("GET", "/v1/audit/proofs/inclusion"): (("400",), "`seq` must lie below `tree_size`"),
    ("GET", "/v1/audit/proofs/consistency"): (("400",), "`first` must not exceed `second`"),
}
"""Operations whose documented refusal the positive-data check accepts: rules between
fields or against the store's state, which JSON Schema cannot state. The API is not
weakened for the fuzzer; the check is told what the document says in words."""


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "operations": [
                {
                    # By name (the label): separate method and path filters would match
                    # either, e.g. every GET.
                    "include-name": f"{method} {path}",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [*_POSITIVE_ANSWERS, *statuses]
                        }
                    },
                }
                for (method, path), (statuses, _why) in SEMANTIC_REFUSALS.items()
            ]
        }
    )


@dataclass
class PrincipalReport:
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    check_failures: int = 0


@dataclass
class FuzzReport:
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    check_failures: Counter[str] = field(default_factory=Counter)
    without_cases: list[str] = field(default_factory=list)
    examples: dict[str, str] = field(default_factory=dict)
    by_principal: dict[str, PrincipalReport] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"schemathesis: {self.calls} calls, {len(self.server_errors)} server errors, "
            f"{sum(self.check_failures.values())} check failures, "
            f"{len(self.without_cases)} operation modes without cases, "
            f"{self.seconds:.0f} s; statuses {dict(sorted(self.statuses.items()))}"
        ]
        lines += [
            f"  {who}: {one.calls} calls, {one.server_errors} server errors, "
            f"{one.check_failures} check failures; statuses {dict(sorted(one.statuses.items()))}"
            for who, one in self.by_principal.items()
        ]
        lines += [f"  5xx: {error}" for error in self.server_errors[:30]]
        lines += [
            f"  {n:5d}x {what}\n         e.g. {self.examples[what]}"
            for what, n in self.check_failures.most_common()
        ]
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
    @given(case=operation.as_strategy(generation_mode=mode, headers=PLACEHOLDER_CREDENTIALS))
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
            one = report.by_principal.setdefault(principal, PrincipalReport())
            report.calls += 1
            one.calls += 1
            report.statuses[response.status_code] += 1
            one.statuses[response.status_code] += 1
            if response.status_code >= 500:
                where = f"{case.method} {case.formatted_path} as {principal} ({mode.value})"
                report.server_errors.append(f"{where}: {response.status_code}")
                one.server_errors += 1
                continue
            try:
                case.validate_response(response, headers=headers)
            except (Failure, FailureGroup) as exc:
                failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
                for failure in failures:
                    what = f"{case.method} {operation.path}: {failure.title}"
                    report.check_failures[what] += 1
                    one.check_failures += 1
                    # What was sent is synthetic (generated); the answer never echoes values.
                    report.examples.setdefault(
                        what,
                        f"as {principal} ({mode.value}) -> {response.status_code} "
                        f"{response.text[:200]!r}: {failure.message[:300]!r}",
                    )

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid (an operation without parameters or body): no cases.
        report.without_cases.append(f"{operation.label} ({mode.value})")


def test_given_fuzzed_requests_by_every_principal_then_every_check_passes(
    fuzz_store: tuple[Settings, Path], fuzz_server: Server
) -> None:
    settings, work = fuzz_store
    keys = json.loads((settings.data_dir / "demo-keys.json").read_text())
    schema = schemathesis.openapi.from_url(
        f"{fuzz_server.base}/schema/openapi.json", config=fuzz_config()
    )
    report = FuzzReport()
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, fuzz_server.base, keys, report)
    report.seconds = time.monotonic() - started

    summary = report.summary()
    print("\n" + summary)
    (work / "fuzz-report.txt").write_text(summary + "\n")
    assert report.server_errors == [], summary
    assert not report.check_failures, summary
    assert set(report.by_principal) == {principal for principal, _ in PRINCIPALS}
