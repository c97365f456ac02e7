"""The export threshold decided inside the audit writer's batch, on SQLite and PostgreSQL:
concurrent reads across the threshold never release more records than it allows, the
counter equals the records released, each refused read has exactly one entry (the
refusal's) and no data, the chain verifies; an approval lifts the gate at once; a batch
the store refuses releases nothing and counts nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.helpers.api import Api, api_on
from tests.helpers.policy import admin_patch, restored_policy
from tests.helpers.store import BACKENDS, new_store

ANALYST, PURPOSE = "analytics-job", "analytics"
STEWARD = "data-steward"
REQUESTS = "/v1/approvals/requests"
COMPLIANCE = ("compliance-officer", "compliance_audit")
THRESHOLD = 20
PAGE = 3
READS = 24
TASKS = 8


@pytest.fixture(scope="module", params=BACKENDS)
def gate_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    with api_on(new_store(request, tmp_path_factory)) as api:
        yield api


@pytest.fixture
def small_threshold(gate_api: Api) -> Iterator[int]:
    """Analytics may read THRESHOLD records a day without approval; counters start at zero."""
    gate_api.store.sql("DELETE FROM read_counters")
    with restored_policy(gate_api):
        response = admin_patch(
            gate_api, f"/v1/policy/purposes/{PURPOSE}", {"export_threshold": THRESHOLD}
        )
        assert response.status_code == 200, response.text
        yield THRESHOLD
    gate_api.store.sql("DELETE FROM read_counters")


def page(api: Api, request_id: str, limit: int = PAGE, token: str | None = None) -> Any:
    headers = api.headers(ANALYST, PURPOSE) | {"X-Request-Id": request_id}
    if token is not None:
        headers["X-Export-Token"] = token
    return api.client.get("/v1/customers", params={"limit": str(limit)}, headers=headers)


def counted(api: Api) -> int:
    rows = api.store.sql(
        "SELECT records FROM read_counters WHERE principal_id = :p AND purpose = :u",
        {"p": ANALYST, "u": PURPOSE},
    )
    return int(rows[0][0]) if rows else 0


def entries_of(api: Api, request_id: str) -> list[dict[str, Any]]:
    rows = api.store.sql(
        "SELECT status, outcome, reason, record_ids, subject_ids, fields, classification "
        "FROM audit_events WHERE request_id = :r",
        {"r": request_id},
    )
    found = []
    for row in rows:
        entry = dict(row._mapping)
        for key in ("record_ids", "subject_ids", "fields", "classification"):
            if isinstance(entry[key], str):
                entry[key] = json.loads(entry[key])
        found.append(entry)
    return found


def assert_refused(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["reason"] == "approval_required"
    assert problem["request_endpoint"] == REQUESTS
    assert "data" not in problem


def assert_chain_verifies(api: Api) -> None:
    verified = api.get("/v1/audit/verify", *COMPLIANCE)
    assert verified.status_code == 200, verified.text
    assert verified.json()["data"]["ok"] is True


def test_given_concurrent_reads_across_the_threshold_then_no_more_are_released(
    gate_api: Api, small_threshold: int
) -> None:
    ids = [f"gate-{n:02d}" for n in range(READS)]
    with ThreadPoolExecutor(TASKS) as pool:
        responses = dict(zip(ids, pool.map(lambda r: page(gate_api, r), ids), strict=True))
    allowed = {r: resp for r, resp in responses.items() if resp.status_code == 200}
    refused = {r: resp for r, resp in responses.items() if resp.status_code != 200}
    released = sum(len(resp.json()["data"]) for resp in allowed.values())
    assert refused, "READS × PAGE is well past the threshold"
    assert released <= small_threshold
    # A read was refused only when its records no longer fitted: the gate did not
    # refuse early (each page holds at most PAGE records).
    assert released > small_threshold - PAGE
    assert counted(gate_api) == released
    for request_id, response in refused.items():
        assert_refused(response)
        (entry,) = entries_of(gate_api, request_id)
        assert (entry["status"], entry["outcome"], entry["reason"]) == (
            403,
            "denied",
            "approval_required",
        )
        # The refusal names no record and classifies nothing: none was released.
        assert entry["record_ids"] == entry["subject_ids"] == []
        assert entry["classification"] is None
    for request_id, response in allowed.items():
        (entry,) = entries_of(gate_api, request_id)
        assert (entry["status"], entry["outcome"]) == (200, "allowed")
        # Analytics sees pseudonyms; the entry names the stored ids, one per record shown.
        assert len(entry["record_ids"]) == len(response.json()["data"])
        assert response.json()["governance"]["audit_id"] is not None
    assert_chain_verifies(gate_api)


def test_given_the_threshold_reached_then_an_approval_lifts_the_gate_at_once(
    gate_api: Api, small_threshold: int
) -> None:
    first = page(gate_api, "fields", limit=1)
    assert first.status_code == 200, first.text
    labels = first.json()["governance"]["fields"]
    # The fields a page shows this caller: what the export request must name.
    shown = sorted(name for name, label in labels.items() if not label.startswith("withheld"))
    for n in range(READS):
        response = page(gate_api, f"fill-{n:02d}")
        if response.status_code != 200:
            break
    assert_refused(response)
    spent = counted(gate_api)
    body = {
        "reason": "quarterly churn model",
        "scope": {"entity": "customers", "fields": shown, "filter": {}, "max_records": 10},
    }
    filed = gate_api.post(REQUESTS, ANALYST, PURPOSE, json=body)
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    approved = gate_api.post(
        f"{REQUESTS}/{request_id}/approve", STEWARD, PURPOSE, json={"reason": "ok"}
    )
    assert approved.status_code == 200, approved.text
    taken = gate_api.post(f"{REQUESTS}/{request_id}/token", ANALYST, PURPOSE)
    assert taken.status_code == 200, taken.text
    # The very next read with the token is served: nothing to wait for.
    opened = page(gate_api, "with-token", limit=10, token=taken.json()["token"])
    assert opened.status_code == 200, opened.text
    assert opened.json()["data"]
    (entry,) = entries_of(gate_api, "with-token")
    assert entry["fields"]["export:request"] == request_id
    # The approved export is not counted, and the gate still holds without a token.
    assert counted(gate_api) == spent
    assert_refused(page(gate_api, "after-token"))
    assert_chain_verifies(gate_api)


@pytest.fixture
def refusing_store(gate_api: Api) -> Iterator[None]:
    """Every audit insert fails, as a full disk or a revoked grant would."""
    if gate_api.store.backend == "sqlite":
        gate_api.store.sql(
            "CREATE TRIGGER test_gate_down BEFORE INSERT ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit store down'); END"
        )
        yield
        gate_api.store.sql("DROP TRIGGER test_gate_down")
    else:
        gate_api.store.sql(
            "CREATE FUNCTION test_gate_down() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit store down'; END $$"
        )
        gate_api.store.sql(
            "CREATE TRIGGER test_gate_down BEFORE INSERT ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION test_gate_down()"
        )
        yield
        gate_api.store.sql("DROP TRIGGER test_gate_down ON audit_events")
        gate_api.store.sql("DROP FUNCTION test_gate_down()")


def test_given_a_batch_the_store_refuses_then_nothing_is_released_or_counted(
    gate_api: Api, small_threshold: int, refusing_store: None
) -> None:
    before = counted(gate_api)
    ids = [f"down-{n}" for n in range(TASKS)]
    with ThreadPoolExecutor(TASKS) as pool:
        responses = list(pool.map(lambda r: page(gate_api, r), ids))
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.json()["reason"] == "audit_unavailable"
        assert "data" not in response.json()
    # The counter rolled back with the entries it was to commit with.
    assert counted(gate_api) == before
    for request_id in ids:
        assert entries_of(gate_api, request_id) == []
