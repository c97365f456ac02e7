"""Minimization in the consent API: each caller sees the consent records it needs.

A caller sees the records of the purpose it declared; a role with `consent:read` sees
those of other purposes too (the service desk, who takes consent calls for every
purpose; the compliance officer); only `consent:evidence` (the compliance officer) shows
evidence hashes and guardian references. All decided by policy rights, never by name.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.helpers.api import Api
from tests.helpers.customers import grant, new_customer

SUPPORT = ("support-desk", "customer_service")
MARKETING = ("marketing-app", "marketing")
COMPLIANCE = ("compliance-officer", "compliance_audit")
EVIDENCE = {"marketing": "call recording 8812", "analytics": "web form 77"}


@pytest.fixture(scope="module")
def customer_id(api: Api) -> str:
    """A new customer with consent records of three purposes, each with its evidence."""
    customer = new_customer(api)
    for purpose, evidence in EVIDENCE.items():
        granted = grant(api, customer, SUPPORT, purpose=purpose, evidence=evidence)
        assert granted.status_code == 201, granted.text
    withdrawn = api.post(f"/v1/customers/{customer}/consents/analytics/withdraw", *SUPPORT)
    assert withdrawn.status_code == 200, withdrawn.text
    own = grant(api, customer, MARKETING, purpose="marketing", notice_version="notice-2026.2")
    assert own.status_code == 201, own.text
    return customer


def consents(api: Api, customer: str, who: tuple[str, str]) -> dict[str, Any]:
    response = api.get(f"/v1/customers/{customer}/consents", *who)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def entry_fields(api: Api, seq: int) -> dict[str, str]:
    ((fields,),) = api.store.sql("SELECT fields FROM audit_events WHERE seq = :s", {"s": seq})
    return fields if isinstance(fields, dict) else json.loads(fields)


def test_given_marketing_app_then_only_marketing_records_and_no_evidence(
    api: Api, customer_id: str
) -> None:
    body = consents(api, customer_id, MARKETING)

    data = body["data"]
    assert {state["purpose"] for state in data["current"]} == {"marketing"}
    assert [event["purpose"] for event in data["history"]] == ["marketing", "marketing"]
    for event in data["history"]:
        assert "evidence_hash" not in event
        assert "guardian_ref" not in event
    assert hashlib.sha256(EVIDENCE["marketing"].encode()).hexdigest() not in str(body)
    governance = body["governance"]
    assert governance["consent_purposes"] == ["marketing"]
    assert governance["evidence"] == "withheld:denied"
    assert entry_fields(api, governance["audit_id"]) == {
        "consents": "read:marketing",
        "evidence": "withheld:denied",
    }


def test_given_support_desk_then_every_purpose_and_no_evidence(api: Api, customer_id: str) -> None:
    body = consents(api, customer_id, SUPPORT)

    data = body["data"]
    history = [(event["purpose"], event["kind"]) for event in data["history"]]
    assert history == [
        ("marketing", "grant"),
        ("analytics", "grant"),
        ("analytics", "withdraw"),
        ("marketing", "grant"),
    ]
    current = {state["purpose"]: state["valid"] for state in data["current"]}
    assert current == {"marketing": True, "analytics": False}
    assert all("evidence_hash" not in event for event in data["history"])
    assert body["governance"]["consent_purposes"] == "*"
    assert entry_fields(api, body["governance"]["audit_id"])["consents"] == "read:all"


def test_given_compliance_officer_then_every_purpose_with_evidence_hashes(
    api: Api, customer_id: str
) -> None:
    body = consents(api, customer_id, COMPLIANCE)

    history = body["data"]["history"]
    assert [event["purpose"] for event in history] == [
        "marketing",
        "analytics",
        "analytics",
        "marketing",
    ]
    assert history[0]["evidence_hash"] == hashlib.sha256(b"call recording 8812").hexdigest()
    assert history[1]["evidence_hash"] == hashlib.sha256(b"web form 77").hexdigest()
    assert history[2]["evidence_hash"] is None, "a withdrawal carries no evidence"
    assert all("guardian_ref" in event for event in history)
    assert body["governance"]["evidence"] == "clear"
    assert entry_fields(api, body["governance"]["audit_id"]) == {
        "consents": "read:all",
        "evidence": "clear",
    }


@pytest.mark.parametrize(
    "who", [("analytics-job", "analytics"), ("security-admin", "policy_admin")]
)
def test_given_role_without_consent_rights_then_403_consent_not_allowed(
    api: Api, customer_id: str, who: tuple[str, str]
) -> None:
    response = api.get(f"/v1/customers/{customer_id}/consents", *who)
    assert response.status_code == 403
    assert response.json()["reason"] == "consent_not_allowed"
    assert "history" not in response.text
