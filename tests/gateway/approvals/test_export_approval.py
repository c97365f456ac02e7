"""Dual control for bulk export on SQLite and PostgreSQL: threshold reads refused
without a token, requester ≠ approver, single-use tokens bound to the exact scope,
expiry, and one audit entry per step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.api import Api, api_on
from tests.helpers.policy import admin_patch, audit_entry, restored_policy
from tests.helpers.store import BACKENDS, new_store

ANALYST, PURPOSE = "analytics-job", "analytics"
STEWARD = "data-steward"
REQUESTS = "/v1/approvals/requests"


@pytest.fixture(scope="module", params=BACKENDS)
def ex_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    with api_on(new_store(request, tmp_path_factory)) as api:
        yield api


@pytest.fixture
def small_threshold(ex_api: Api) -> Iterator[int]:
    """Analytics may read 20 records a day without approval; counters start at zero."""
    ex_api.store.sql("DELETE FROM read_counters")
    with restored_policy(ex_api):
        response = admin_patch(ex_api, "/v1/policy/purposes/analytics", {"export_threshold": 20})
        assert response.status_code == 200, response.text
        yield 20
    ex_api.store.sql("DELETE FROM read_counters")


def page(api: Api, limit: int, token: str | None = None, principal: str = ANALYST) -> Any:
    headers = api.headers(principal, PURPOSE)
    if token is not None:
        headers["X-Export-Token"] = token
    return api.client.get("/v1/customers", params={"limit": str(limit)}, headers=headers)


def shown_fields(api: Api) -> list[str]:
    labels = page(api, 1).json()["governance"]["fields"]
    return sorted(name for name, label in labels.items() if not label.startswith("withheld"))


def file(api: Api, fields: list[str], max_records: int, principal: str = ANALYST) -> str:
    body = {
        "reason": "quarterly churn model",
        "scope": {
            "entity": "customers",
            "fields": fields,
            "filter": {},
            "max_records": max_records,
        },
    }
    response = api.post(REQUESTS, principal, PURPOSE, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    return str(response.json()["id"])


def approve(api: Api, request_id: str, principal: str = STEWARD) -> Any:
    return api.post(f"{REQUESTS}/{request_id}/approve", principal, PURPOSE, json={"reason": "ok"})


def token_for(api: Api, request_id: str) -> str:
    response = api.post(f"{REQUESTS}/{request_id}/token", ANALYST, PURPOSE)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_given_reads_past_the_threshold_then_they_need_an_approval(
    ex_api: Api, small_threshold: int
) -> None:
    big = page(ex_api, 40)
    assert big.status_code == 403, big.text
    problem = big.json()
    assert problem["reason"] == "approval_required"
    assert problem["request_endpoint"] == REQUESTS
    # Pages of 10 (fewer returned where consent withholds a record) until refused: no
    # more than 20 records were released before the refusal.
    released = 0
    for _ in range(10):
        response = page(ex_api, 10)
        if response.status_code != 200:
            break
        released += len(response.json()["data"])
    assert response.json()["reason"] == "approval_required"
    assert 10 < released <= small_threshold


def test_given_an_approved_request_then_its_token_opens_that_scope_once(
    ex_api: Api, small_threshold: int
) -> None:
    fields = shown_fields(ex_api)
    request_id = file(ex_api, fields, 40)
    assert approve(ex_api, request_id).status_code == 200
    token = token_for(ex_api, request_id)
    first = page(ex_api, 40, token)
    assert first.status_code == 200, first.text
    assert len(first.json()["data"]) > 20
    entry = audit_entry(ex_api, first.json()["governance"]["audit_id"])
    assert entry["fields"]["export:request"] == request_id
    again = page(ex_api, 40, token)
    assert again.status_code == 403
    assert again.json()["reason"] == "export_token_invalid"
    # The token is never stored: only its hash.
    rows = ex_api.store.sql(
        "SELECT token_hash FROM export_requests WHERE id = :i", {"i": request_id}
    )
    assert rows[0][0] != token
    assert token not in str(ex_api.store.sql("SELECT * FROM export_requests"))


def test_given_a_token_for_another_scope_then_the_read_is_refused(
    ex_api: Api, small_threshold: int
) -> None:
    fields = shown_fields(ex_api)
    request_id = file(ex_api, fields[:-1], 40)  # one field fewer than the read shows
    approve(ex_api, request_id)
    token = token_for(ex_api, request_id)
    assert page(ex_api, 40, token).json()["reason"] == "export_token_invalid"
    bigger = file(ex_api, fields, 10)
    approve(ex_api, bigger)
    assert page(ex_api, 40, token_for(ex_api, bigger)).json()["reason"] == "export_token_invalid"


def test_given_an_expired_token_then_the_read_is_refused(ex_api: Api, small_threshold: int) -> None:
    request_id = file(ex_api, shown_fields(ex_api), 40)
    approve(ex_api, request_id)
    token = token_for(ex_api, request_id)
    ex_api.store.sql(
        "UPDATE export_requests SET token_expires_at = '2000-01-01T00:00:00+00:00' WHERE id = :i",
        {"i": request_id},
    )
    assert page(ex_api, 40, token).json()["reason"] == "export_token_invalid"


def test_given_the_requester_then_it_cannot_approve_its_own_request(ex_api: Api) -> None:
    own = file(ex_api, ["id"], 5, principal=STEWARD)
    response = approve(ex_api, own, principal=STEWARD)
    assert response.status_code == 403
    assert response.json()["reason"] == "self_approval"
    other = file(ex_api, ["id"], 5)
    refused = approve(ex_api, other, principal=ANALYST)
    assert refused.json()["reason"] == "approval_not_allowed"


def test_given_a_denied_request_then_no_token_is_issued(ex_api: Api) -> None:
    request_id = file(ex_api, ["id"], 5)
    denied = ex_api.post(f"{REQUESTS}/{request_id}/deny", STEWARD, PURPOSE, json={"reason": "no"})
    assert denied.json()["status"] == "denied"
    response = ex_api.post(f"{REQUESTS}/{request_id}/token", ANALYST, PURPOSE)
    assert response.json()["reason"] == "not_approved"
    # Decided once: approving a denied request is refused.
    assert approve(ex_api, request_id).json()["reason"] == "not_pending"


def _steps(api: Api) -> dict[str, int]:
    rows = api.store.sql(
        "SELECT action, count(*) FROM audit_events WHERE action LIKE 'approvals.%' GROUP BY 1"
    )
    return {row[0]: int(row[1]) for row in rows}


def test_given_the_flow_then_every_step_leaves_one_audit_entry(ex_api: Api) -> None:
    before = _steps(ex_api)
    request_id = file(ex_api, ["id"], 5)
    approve(ex_api, request_id)
    token_for(ex_api, request_id)
    listed = ex_api.get(REQUESTS, STEWARD, PURPOSE, params={"status": "issued"})
    assert request_id in [item["id"] for item in listed.json()["data"]]
    after = _steps(ex_api)
    for action in ("approvals.request", "approvals.approve", "approvals.token", "approvals.list"):
        assert after[action] == before.get(action, 0) + 1, action
    entries = ex_api.store.sql(
        "SELECT record_ids FROM audit_events WHERE action = 'approvals.approve' ORDER BY seq DESC"
    )
    assert request_id in str(entries[0][0])
