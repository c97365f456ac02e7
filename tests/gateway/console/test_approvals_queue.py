"""The console's export approvals queue on SQLite and PostgreSQL: the data steward sees
pending requests with their exact scope, approves or denies one through the same use
case as `/v1/approvals` (one audit entry per console request), a blank reason or the
requester's own request is refused beside the reason field, a principal without
`approve_export` and a form without its CSRF token are refused, and whatever a
requester wrote is shown as text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from structlog.testing import capture_logs

from gateway.console.i18n import catalog
from tests.helpers.console import Console

STEWARD, ANALYST, PURPOSE = "data-steward", "analytics-job", "analytics"
REQUESTS = "/v1/approvals/requests"
QUEUE = "/console/approvals"


def file_request(
    console: Console, reason: str = "quarterly churn model", principal: str = ANALYST
) -> str:
    body = {
        "reason": reason,
        "scope": {
            "entity": "customers",
            "fields": ["region", "tier"],
            "filter": {"tier": "gold"},
            "max_records": 1500,
        },
    }
    response = console.api.post(REQUESTS, principal, PURPOSE, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def stored(console: Console, request_id: str) -> tuple[Any, ...]:
    rows = console.api.store.sql(
        "SELECT status, decided_by, decision_reason FROM export_requests WHERE id = :id",
        {"id": request_id},
    )
    return tuple(rows[0])


def decide(console: Console, request_id: str, kind: str, reason: str) -> Any:
    """One posted decision with the CSRF token of the request's page."""
    page = f"{QUEUE}/{request_id}"
    return console.post(f"{page}/{kind}", {"reason": reason}, token_from=page)


def decide_counted(console: Console, request_id: str, kind: str, reason: str) -> tuple[Any, int]:
    """One posted decision, and how many audit entries the post alone added."""
    page = f"{QUEUE}/{request_id}"
    return console.post_counted(f"{page}/{kind}", {"reason": reason}, token_from=page)


def test_given_data_steward_then_queue_lists_pending_requests_with_scope(
    console: Console,
) -> None:
    request_id = file_request(console)
    console.sign_in(STEWARD, lang="en")
    home = console.get("/console").text
    assert 'href="/console/approvals"' in home
    # The steward's console opens the queue only: no audit log, no administration.
    for other in ("/console/audit", "/console/admin/rules", "/console/explain"):
        assert f'href="{other}"' not in home
    before = console.audit_count()
    page = console.get(QUEUE)
    assert page.status_code == 200
    assert console.audit_count() == before + 1
    assert console.last_entry()[:3] == ("approvals.list", "allowed", STEWARD)
    row = re.search(rf'<tr data-request="{request_id}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    for shown in (ANALYST, PURPOSE, "quarterly churn model", "region", "tier = gold", "1500"):
        assert shown in row.group(1)


def test_given_approval_in_console_then_one_audit_entry_and_request_approved(
    console: Console,
) -> None:
    request_id = file_request(console)
    console.sign_in(STEWARD, lang="en")
    response, added = decide_counted(console, request_id, "approve", "scope is minimal")
    assert response.status_code == 303
    assert response.headers["location"] == f"{QUEUE}/{request_id}"
    assert added == 1
    action, outcome, principal, _reason, purpose, _status, _subjects = console.last_entry()
    assert (action, outcome, principal) == ("approvals.approve", "allowed", STEWARD)
    assert purpose == PURPOSE
    entry = console.api.store.sql("SELECT record_ids FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert request_id in str(entry[0][0])
    assert stored(console, request_id) == ("approved", STEWARD, "scope is minimal")
    detail = console.get(f"{QUEUE}/{request_id}").text
    assert 'data-status="approved"' in detail
    assert 'data-testid="approve-form"' not in detail
    assert f'data-request="{request_id}"' not in console.get(QUEUE).text
    # The requester takes its token through the API as usual.
    taken = console.api.post(f"{REQUESTS}/{request_id}/token", ANALYST, PURPOSE)
    assert taken.status_code == 200


def test_given_deny_without_reason_then_required_beside_the_field_and_still_pending(
    console: Console,
) -> None:
    request_id = file_request(console)
    console.sign_in(STEWARD, lang="en")
    response, added = decide_counted(console, request_id, "deny", "   ")
    assert response.status_code == 422
    assert 'data-testid="error-reason" data-reason="required"' in response.text
    deny_form = re.search(r'data-testid="deny-form".*?</form>', response.text, re.S)
    assert deny_form is not None
    assert 'data-reason="required"' in deny_form.group(0)
    assert added == 1
    assert console.last_entry()[:2] == ("approvals.deny", "invalid")
    assert stored(console, request_id)[0] == "pending"


def test_given_deny_with_reason_then_denied(console: Console) -> None:
    request_id = file_request(console)
    console.sign_in(STEWARD, lang="en")
    assert decide(console, request_id, "deny", "too broad").status_code == 303
    assert stored(console, request_id) == ("denied", STEWARD, "too broad")
    again = decide(console, request_id, "approve", "changed my mind")
    assert again.status_code == 403
    assert 'data-reason="not_pending"' in again.text
    assert stored(console, request_id)[0] == "denied"


def test_given_own_request_then_self_approval_beside_the_field(console: Console) -> None:
    request_id = file_request(console, principal=STEWARD)
    console.sign_in(STEWARD, lang="en")
    assert 'data-testid="own-request"' in console.get(f"{QUEUE}/{request_id}").text
    response = decide(console, request_id, "approve", "looks fine to me")
    assert response.status_code == 403
    assert 'data-testid="error-reason" data-reason="self_approval"' in response.text
    assert console.last_entry()[:4] == ("approvals.approve", "denied", STEWARD, "self_approval")
    assert stored(console, request_id)[0] == "pending"


@pytest.mark.parametrize(("principal", "purpose"), [("compliance-officer", "compliance_audit")])
def test_given_principal_without_approve_export_then_queue_and_decisions_refused_403(
    console: Console, principal: str, purpose: str
) -> None:
    request_id = file_request(console)
    console.sign_in(principal, lang="en")
    assert 'href="/console/approvals"' not in console.get("/console").text
    for path in (QUEUE, f"{QUEUE}/{request_id}"):
        before = console.audit_count()
        assert console.get(path).status_code == 403
        assert console.audit_count() == before + 1
        assert console.last_entry()[1:5] == ("denied", principal, "screen_not_allowed", purpose)
    response = console.post(f"{QUEUE}/{request_id}/approve", {"reason": "ok"})
    assert response.status_code == 403
    assert console.last_entry()[:2] == ("approvals.approve", "denied")
    assert stored(console, request_id)[0] == "pending"


def test_given_decision_without_valid_csrf_token_then_refused_and_nothing_decided(
    console: Console,
) -> None:
    request_id = file_request(console)
    console.sign_in(STEWARD, lang="en")
    for form in ({"reason": "ok"}, {"reason": "ok", "csrf_token": "forged"}):
        before = console.audit_count()
        response = console.client.post(
            f"{QUEUE}/{request_id}/approve", data=form, follow_redirects=False
        )
        assert response.status_code == 403
        assert console.audit_count() == before + 1
        assert console.last_entry()[1:4] == ("denied", STEWARD, "csrf_token_invalid")
    assert stored(console, request_id)[0] == "pending"


def test_given_script_in_a_reason_then_rendered_inert(console: Console) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    request_id = file_request(console, reason=attack)
    console.sign_in(STEWARD, lang="en")
    for path in (QUEUE, f"{QUEUE}/{request_id}"):
        page = console.get(path).text
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(" in page
    response = decide(console, request_id, "deny", attack)
    assert response.status_code == 303
    detail = console.get(f"{QUEUE}/{request_id}").text
    assert "<script>alert" not in detail
    assert detail.count("&lt;script&gt;alert(") == 2  # the request's and the decision's


def test_given_chinese_session_then_queue_labels_in_chinese(console: Console) -> None:
    file_request(console)
    console.sign_in(STEWARD, lang="zh-CN")
    page = console.get(QUEUE).text
    for key in ("nav.approvals", "approvals.requester", "approvals.filed_at", "approvals.open"):
        assert catalog("zh-CN")[key] in page


def test_given_approvals_messages_then_every_key_in_both_languages() -> None:
    english = {k for k in catalog("en") if k.startswith("approvals.")}
    chinese = {k for k in catalog("zh-CN") if k.startswith("approvals.")}
    assert english == chinese
    assert len(english) > 20
    assert all(catalog("zh-CN")[k] != catalog("en")[k] for k in english)


def test_given_queue_and_decisions_then_no_reason_text_in_logs_or_audit_entries(
    console: Console,
) -> None:
    filed_text, decision_text = "Marker-Filed-7Q2", "Marker-Decided-9X4"
    request_id = file_request(console, reason=filed_text)
    console.sign_in(STEWARD, lang="en")
    with capture_logs() as structured:
        assert filed_text in console.get(QUEUE).text
        assert decide(console, request_id, "deny", "").status_code == 422
        assert decide(console, request_id, "approve", decision_text).status_code == 303
    routes = {entry.get("route") for entry in structured}
    assert "/console/approvals" in routes  # the request log was captured
    logged = repr(structured)
    entries = str(console.api.store.sql("SELECT * FROM audit_events"))
    for text in (filed_text, decision_text):
        assert text not in logged
        assert text not in entries
