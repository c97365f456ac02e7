"""A demo session leaves no seeded personal value in any log line."""

from __future__ import annotations

import json
import logging

import pytest
from structlog.testing import capture_logs

from tests.helpers.api import Api
from tests.helpers.customers import SUPPORT, valid_body


def seeded_values(api: Api) -> set[str]:
    fields = ("name", "id_number", "phone", "email", "bank_card", "address")
    # Erased or tampered customers (other tests) have fields that no longer decrypt.
    return {str(row[f]) for row in api.store.customers() for f in fields if row.get(f)}


def run_demo_session(api: Api) -> None:
    ids = api.customer_ids()
    for principal, purpose in (
        ("support-desk", "customer_service"),
        ("marketing-app", "marketing"),
        ("analytics-job", "analytics"),
        ("compliance-officer", "compliance_audit"),
    ):
        api.get("/v1/customers", principal, purpose, params={"limit": "500"})
        for customer_id in ids[:10]:
            api.get(f"/v1/customers/{customer_id}", principal, purpose)
            api.get(f"/v1/customers/{customer_id}/interactions", principal, purpose)
            api.get(f"/v1/customers/{customer_id}/orders", principal, purpose)
    stored = next(row for row in api.store.customers() if "phone" in row and "id_number" in row)
    # Bad input carrying real values must not echo them either.
    api.post("/v1/customers", *SUPPORT, json=valid_body(phone=stored["phone"] + "9"))
    api.post("/v1/customers", *SUPPORT, json=valid_body(id_number=stored["id_number"][:-1] + "0"))
    api.post("/v1/customers", "marketing-app", "marketing", json={"phone": stored["phone"]})
    api.get("/v1/customers", *SUPPORT, params={"cursor": stored["phone"]})
    api.get(f"/v1/customers/{stored['phone']}", *SUPPORT)
    api.get("/v1/customers", *SUPPORT, params={"phone": stored["phone"]})
    api.get(
        "/v1/customers", "marketing-app", "marketing", params={"id_number": stored["id_number"]}
    )


def test_given_demo_session_then_no_seeded_value_in_any_log(
    api: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    values = seeded_values(api)
    assert len(values) > 100
    caplog.set_level(logging.DEBUG)
    with capture_logs() as structured:
        run_demo_session(api)
    assert structured, "the session was logged"
    structured_text = json.dumps(structured, ensure_ascii=False, default=str)
    # httpx is the test's own client logging the URLs it calls, not the gateway.
    stdlib_text = "\n".join(
        record.getMessage() for record in caplog.records if record.name != "httpx"
    )
    captured = capsys.readouterr()
    everything = "\n".join([structured_text, stdlib_text, captured.out, captured.err])
    leaked = sorted(value for value in values if value in everything)
    assert leaked == []
