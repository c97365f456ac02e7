"""The DPO's request screens through the test client: who sees them (from policy), the
queue and its colours, each action a CSRF-checked form calling the API's use case with
one audit entry, refused transitions and problems shown beside their fields, escaping,
and legal holds set and released on the request's customer."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from structlog.testing import capture_logs

from tests.helpers.console import Console, csrf_of

DPO = ("privacy-desk", "data_subject_request")


def file_request(console: Console, kind: str = "access", index: int = 0) -> tuple[str, str]:
    customer = console.api.customer_ids()[index]
    filed = console.api.post("/v1/dsr", *DPO, json={"customer_id": customer, "type": kind})
    assert filed.status_code == 201, filed.text
    return str(filed.json()["data"]["id"]), customer


def status_of(console: Console, dsr_id: str) -> str:
    return str(
        console.api.store.sql("SELECT status FROM dsr_requests WHERE id = :id", {"id": dsr_id})[0][
            0
        ]
    )


def signed_in(console: Console) -> str:
    """Sign the DPO in; the session's CSRF token (read once, so that counting audit
    entries afterwards counts only the actions)."""
    console.sign_in("privacy-desk")
    return csrf_of(console.get("/console").text)


def act(console: Console, token: str, dsr_id: str, step: str, **fields: str) -> Any:
    return console.client.post(
        f"/console/dsr/{dsr_id}/{step}",
        data={"csrf_token": token, **fields},
        follow_redirects=False,
    )


def test_given_privacy_desk_then_signs_in_and_sees_only_the_request_screens(
    console: Console,
) -> None:
    console.sign_in("privacy-desk")
    home = console.get("/console").text

    assert 'href="/console/dsr"' in home
    assert 'href="/console/audit"' not in home
    assert console.get("/console/audit").status_code == 403


def test_given_compliance_officer_then_request_screens_refused_and_audited(
    console: Console,
) -> None:
    dsr_id, _ = file_request(console)
    console.sign_in("compliance-officer")
    assert 'href="/console/dsr"' not in console.get("/console").text
    before = console.audit_count()

    assert console.get("/console/dsr").status_code == 403
    assert console.get(f"/console/dsr/{dsr_id}").status_code == 403

    assert console.audit_count() == before + 2
    action, outcome, principal, reason, *_ = console.last_entry()
    assert (action, outcome, principal, reason) == (
        "dsr.read",
        "denied",
        "compliance-officer",
        "screen_not_allowed",
    )


def test_given_queue_then_one_list_entry_and_filters_apply(console: Console) -> None:
    dsr_id, _ = file_request(console, "explanation")
    console.sign_in("privacy-desk")
    before = console.audit_count()

    queue = console.get("/console/dsr?type=explanation&status=received")

    assert queue.status_code == 200
    assert dsr_id in queue.text
    assert console.audit_count() == before + 1
    action, outcome, principal, *_ = console.last_entry()
    assert (action, outcome, principal) == ("dsr.list", "allowed", "privacy-desk")
    assert dsr_id not in console.get("/console/dsr?type=deletion").text


def test_given_overdue_and_due_soon_then_red_first_then_amber(console: Console) -> None:
    late, _ = file_request(console, "access", 1)
    soon, _ = file_request(console, "access", 2)
    store = console.api.store
    due = "UPDATE dsr_requests SET due_date = :due WHERE id = :id"
    store.sql(due, {"due": "2020-01-06", "id": late})
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    store.sql(due, {"due": today, "id": soon})
    console.sign_in("privacy-desk")

    rows = re.findall(
        r'data-urgency="(\w*)">\s*<td><a href="/console/dsr/(dsr_\w+)"',
        console.get("/console/dsr").text,
    )

    assert rows[0] == ("overdue", late)
    assert ("soon", soon) in rows
    assert console.get("/console/dsr?overdue=true").text.count('data-testid="dsr-row"') >= 1
    assert soon not in console.get("/console/dsr?overdue=true").text


def test_given_bad_filter_then_reason_shown_not_a_500(console: Console) -> None:
    console.sign_in("privacy-desk")

    response = console.get("/console/dsr?status=<b>lost</b>")

    assert response.status_code == 400
    assert 'data-field="status"' in response.text
    assert "<b>lost</b>" not in response.text


def test_given_verify_start_fulfil_then_completed_with_one_entry_each(console: Console) -> None:
    dsr_id, customer = file_request(console)
    console.sign_in("privacy-desk")
    token = csrf_of(console.get(f"/console/dsr/{dsr_id}").text)
    before = console.audit_count()
    steps = (
        ("verify", {"method": "id_document", "evidence": "ticket-2026-1203"}),
        ("start", {}),
        ("fulfil", {}),
    )
    for step, fields in steps:
        response = console.client.post(
            f"/console/dsr/{dsr_id}/{step}",
            data={"csrf_token": token, **fields},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/console/dsr/{dsr_id}"
        action, outcome, principal, _reason, purpose, _status, subjects = console.last_entry()
        assert (action, outcome, principal, purpose) == (
            f"dsr.{step}",
            "allowed",
            "privacy-desk",
            "data_subject_request",
        )
        assert customer in str(subjects)

    assert console.audit_count() == before + 3
    assert status_of(console, dsr_id) == "completed"
    evidence = console.api.store.sql(
        "SELECT evidence_hash FROM dsr_requests WHERE id = :id", {"id": dsr_id}
    )[0][0]
    assert "ticket-2026-1203" not in str(evidence)
    detail = console.get(f"/console/dsr/{dsr_id}").text
    assert 'data-testid="form-download"' in detail
    assert 'data-testid="form-verify"' not in detail


def test_given_package_download_form_then_html_package_and_audited(console: Console) -> None:
    dsr_id, _ = file_request(console, "explanation", 3)
    token = signed_in(console)
    act(console, token, dsr_id, "verify", method="in_person", evidence="desk-visit-7")
    act(console, token, dsr_id, "start")
    act(console, token, dsr_id, "fulfil")
    before = console.audit_count()

    response = act(console, token, dsr_id, "package", format="html")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "attachment" in response.headers["content-disposition"]
    assert console.audit_count() == before + 1
    assert console.last_entry()[0] == "dsr.download"


def test_given_form_without_csrf_token_then_refused_and_nothing_moves(console: Console) -> None:
    dsr_id, _ = file_request(console)
    console.sign_in("privacy-desk")
    before = console.audit_count()

    response = console.client.post(
        f"/console/dsr/{dsr_id}/verify",
        data={"method": "id_document", "evidence": "x"},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert status_of(console, dsr_id) == "received"
    assert console.audit_count() == before + 1
    assert console.last_entry()[3] == "csrf_token_invalid"


def test_given_transition_the_machine_refuses_then_reason_shown_with_409(
    console: Console,
) -> None:
    dsr_id, _ = file_request(console)
    token = signed_in(console)
    before = console.audit_count()

    response = act(console, token, dsr_id, "start")

    assert response.status_code == 409
    assert "请求的当前状态不允许此操作" in response.text
    assert status_of(console, dsr_id) == "received"
    assert console.audit_count() == before + 1
    action, outcome, _principal, reason, *_ = console.last_entry()
    assert (action, outcome, reason) == ("dsr.start", "invalid", "wrong_status")


def test_given_refusal_without_text_then_problem_beside_field_and_nothing_stored(
    console: Console,
) -> None:
    dsr_id, _ = file_request(console)
    token = signed_in(console)

    response = act(console, token, dsr_id, "refuse", reason="excessive", text="")

    assert response.status_code == 422
    assert 'data-testid="problem" data-field="text"' in response.text
    assert status_of(console, dsr_id) == "received"


def test_given_extension_with_bad_days_then_problem_and_evidence_never_echoed(
    console: Console,
) -> None:
    dsr_id, _ = file_request(console)
    token = signed_in(console)

    extended = act(console, token, dsr_id, "extend", days="99", reason="complex case")
    verified = act(console, token, dsr_id, "verify", method="by_magic", evidence="secret-ticket-55")

    assert extended.status_code == 422
    assert 'data-field="days"' in extended.text
    assert verified.status_code == 422
    assert 'data-field="method"' in verified.text
    assert "secret-ticket-55" not in verified.text


def test_given_refusal_text_with_markup_then_shown_inert(console: Console) -> None:
    dsr_id, _ = file_request(console)
    token = signed_in(console)

    refused = act(
        console, token, dsr_id, "refuse", reason="other", text="<script>alert(1)</script> sorry"
    )
    detail = console.get(f"/console/dsr/{dsr_id}").text

    assert refused.status_code == 303
    assert "<script>alert(1)</script>" not in detail
    assert "&lt;script&gt;alert(1)&lt;/script&gt; sorry" in detail
    assert 'data-testid="no-actions"' in detail


def test_given_dpo_then_sets_and_releases_legal_hold_each_audited(console: Console) -> None:
    dsr_id, customer = file_request(console, "deletion", 4)
    token = signed_in(console)
    held = console.api.store.sql

    assert 'data-testid="form-hold"' in console.get(f"/console/dsr/{dsr_id}").text
    set_response = act(console, token, dsr_id, "hold", reason="litigation", note="case 12")
    assert set_response.status_code == 303, set_response.text
    assert console.last_entry()[0] == "retention.hold.set"
    active = "SELECT count(*) FROM legal_holds WHERE customer_id = :id AND released_at IS NULL"
    assert held(active, {"id": customer})[0][0] == 1
    assert 'data-testid="form-release"' in console.get(f"/console/dsr/{dsr_id}").text

    released = act(console, token, dsr_id, "hold/release", reason="case_closed")
    assert released.status_code == 303
    assert console.last_entry()[0] == "retention.hold.release"
    assert held(active, {"id": customer})[0][0] == 0


def test_given_console_actions_then_evidence_and_texts_reach_no_log_or_audit_entry(
    console: Console,
) -> None:
    dsr_id, _ = file_request(console, "access", 5)
    token = signed_in(console)

    with capture_logs() as structured:
        act(console, token, dsr_id, "verify", method="bogus", evidence="passport-E7731")
        act(console, token, dsr_id, "verify", method="id_document", evidence="passport-E7731")
        act(console, token, dsr_id, "extend", days="2", reason="awaiting archive 88-Q")
        act(console, token, dsr_id, "refuse", reason="other", text="held by court order 5521")

    logged = repr(structured)
    entries = repr(console.api.store.sql("SELECT * FROM audit_events"))
    for secret in ("passport-E7731", "court order 5521"):
        assert secret not in logged
        assert secret not in entries
    assert status_of(console, dsr_id) == "refused"
