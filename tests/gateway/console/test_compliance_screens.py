"""The compliance officer's screens over the compliance use cases: what they show, that
each view is one audit entry of the API call it stands for, and what they never show."""

from __future__ import annotations

import json

import pytest

from tests.helpers.console import Console

SUPPORT = ("support-desk", "customer_service")


@pytest.fixture
def officer(console: Console) -> Console:
    console.sign_in("compliance-officer", lang="en", tz="Asia/Shanghai")
    return console


def a_customer(console: Console) -> str:
    customer = console.api.customer_ids()[0]
    assert console.api.get(f"/v1/customers/{customer}", *SUPPORT).status_code == 200
    return customer


def test_given_filters_then_only_matching_entries_each_linking_to_its_entry(
    officer: Console,
) -> None:
    customer = a_customer(officer)
    before = officer.audit_count()

    page = officer.get(
        "/console/audit", params={"principal": "support-desk", "customer_id": customer}
    )

    assert page.status_code == 200
    assert 'data-testid="entry-link"' in page.text
    assert "customers.read" in page.text
    assert "compliance-officer" not in page.text.split('data-testid="events"')[1]
    assert officer.audit_count() == before + 1
    action, outcome, principal, _, purpose, _, subjects = officer.last_entry()
    assert (action, outcome, principal, purpose) == (
        "audit.events.list",
        "allowed",
        "compliance-officer",
        "compliance_audit",
    )
    assert customer in str(subjects)


def test_given_many_entries_then_cursor_pages(officer: Console) -> None:
    for _ in range(3):
        a_customer(officer)
    first = officer.get("/console/audit").text
    assert 'data-testid="next-page"' in first or first.count('data-testid="entry-link"') < 50


def test_given_bad_time_then_error_named_and_entry_invalid(officer: Console) -> None:
    page = officer.get("/console/audit", params={"since": "yesterday"})

    assert page.status_code == 400
    assert "Times must be complete dates" in page.text
    assert officer.last_entry()[1] == "invalid"


def test_given_script_in_a_filter_then_rendered_inert(officer: Console) -> None:
    # No slash or backslash in it: the test client's raw path carries the query, and the
    # guard refuses an encoded separator in the raw path.
    attack = '"><script>alert(1)<script><img src=x onerror=alert(2)>'

    page = officer.get("/console/audit", params={"principal": attack, "customer_id": attack})

    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)" in page.text


def test_given_entry_then_every_field_and_its_proof_verified(officer: Console) -> None:
    a_customer(officer)
    seq = int(officer.api.store.sql("SELECT max(seq) FROM audit_events")[0][0])
    before = officer.audit_count()

    page = officer.get(f"/console/audit/{seq}")

    assert page.status_code == 200
    assert 'data-verified="true"' in page.text
    for name in ("request_id", "principal_id", "purpose", "legal_basis", "fields", "leaf_hash"):
        assert f"<th>{name}</th>" in page.text
    assert "wardgate-audit-" in page.text  # the signer's name
    assert officer.audit_count() == before + 1
    assert officer.last_entry()[0] == "audit.events.read"


def test_given_unknown_entry_then_404_page_and_entry(officer: Console) -> None:
    page = officer.get("/console/audit/999999999")

    assert page.status_code == 404
    assert 'data-reason="not_found"' in page.text
    assert officer.last_entry()[:2] == ("audit.events.read", "invalid")


def test_given_log_health_then_checkpoint_and_verification_result(officer: Console) -> None:
    health = officer.get("/console/log")
    assert health.status_code == 200
    assert 'data-testid="checkpoint-size"' in health.text
    assert officer.last_entry()[0] == "audit.checkpoint"

    verified = officer.post("/console/log/verify", {}, token_from="/console/log")

    assert verified.status_code == 200
    assert 'data-ok="true"' in verified.text
    assert officer.last_entry()[:2] == ("audit.verify", "allowed")


def test_given_htmx_verify_then_only_the_result_fragment(officer: Console) -> None:
    token_page = officer.get("/console/log").text
    from tests.helpers.console import csrf_of

    response = officer.client.post(
        "/console/log/verify",
        data={"csrf_token": csrf_of(token_page)},
        headers={"HX-Request": "true"},
    )

    assert response.text.lstrip().startswith('<div id="verify-result"')


def test_given_customer_then_access_report_and_csv_each_one_entry_naming_them(
    officer: Console,
) -> None:
    customer = a_customer(officer)
    before = officer.audit_count()

    page = officer.get("/console/access-report", params={"customer_id": customer})
    csv = officer.get("/console/access-report.csv", params={"customer_id": customer})

    assert page.status_code == 200
    assert "support-desk" in page.text
    assert "customer_service" in page.text
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("seq,time,principal")
    assert any("support-desk" in line for line in lines[1:])
    assert officer.audit_count() == before + 2
    assert officer.last_entry()[0] == "customers.access_report"
    assert customer in str(officer.last_entry()[6])


def test_given_purpose_filter_then_access_report_keeps_that_purpose_only(
    officer: Console,
) -> None:
    customer = a_customer(officer)

    page = officer.get(
        "/console/access-report", params={"customer_id": customer, "purpose": "marketing"}
    )

    assert "support-desk" not in page.text.split('data-testid="accesses"')[1]


def test_given_consent_history_then_no_evidence_or_guardian_reference(officer: Console) -> None:
    rows = officer.api.store.sql(
        "SELECT customer_id, evidence_hash FROM consents WHERE evidence_hash IS NOT NULL LIMIT 1"
    )
    assert rows, "the demo store records consent evidence"
    customer, evidence = rows[0]
    references = [
        r[0]
        for r in officer.api.store.sql(
            "SELECT guardian_ref FROM consents WHERE guardian_ref IS NOT NULL"
        )
    ]

    page = officer.get("/console/consents", params={"customer_id": customer})

    assert page.status_code == 200
    assert 'data-testid="consent-history"' in page.text
    assert evidence not in page.text
    assert all(reference not in page.text for reference in references)
    action, outcome, *_ = officer.last_entry()
    assert (action, outcome) == ("consents.read", "allowed")
    fields = officer.api.store.sql("SELECT fields FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert "withheld" in str(fields[0][0])


def test_given_charts_then_svg_without_inline_style(officer: Console) -> None:
    a_customer(officer)

    page = officer.get("/console/charts")

    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert "style=" not in page.text
    assert "customer_service" in page.text
    assert officer.last_entry()[0] == "audit.activity"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_given_export_of_a_range_then_entries_of_that_range_only(
    officer: Console, fmt: str
) -> None:
    a_customer(officer)
    logged = officer.audit_count()
    everything = officer.get("/console/export/download", params={"format": fmt})
    later = officer.get(
        "/console/export/download", params={"format": fmt, "since": "2999-01-01T00:00"}
    )

    assert everything.status_code == 200
    assert later.status_code == 200
    assert len(later.content.splitlines()) == (1 if fmt == "csv" else 0)
    header = 1 if fmt == "csv" else 0
    assert len(everything.content.splitlines()) >= logged + header
    if fmt == "jsonl":
        first = json.loads(everything.content.splitlines()[0])
        assert set(first) == {"seq", "entry", "leaf_hash"}
    assert officer.last_entry()[:2] == ("audit.export", "allowed")


def test_given_security_admin_then_compliance_screens_refused_403(console: Console) -> None:
    console.sign_in("security-admin")
    before = console.audit_count()

    for path in ("/console/audit", "/console/log", "/console/charts", "/console/export"):
        page = console.get(path)
        assert page.status_code == 403
        assert 'data-reason="screen_not_allowed"' in page.text

    assert console.audit_count() == before + 4
    assert console.last_entry()[1:4] == ("denied", "security-admin", "screen_not_allowed")
