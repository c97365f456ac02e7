"""PIPL consent through the HTTP API: grant, withdraw, separate and guardian consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.helpers.api import Api
from tests.helpers.customers import MARKETING, SUPPORT, grant, new_customer


def test_given_marketing_consent_lifecycle_then_reads_follow_it_at_once(api: Api) -> None:
    customer_id = new_customer(api)
    path = f"/v1/customers/{customer_id}"

    refused = api.get(path, *MARKETING)
    assert refused.status_code == 403
    assert refused.json()["reason"] == "no_consent"
    listed = api.get("/v1/customers", *MARKETING, params={"limit": "500"}).json()
    assert customer_id not in [item["id"] for item in listed["data"]]
    assert listed["governance"]["withheld_records"] > 0

    granted = grant(api, customer_id, MARKETING, purpose="marketing")
    assert granted.status_code == 201, granted.text
    assert granted.json()["data"]["valid"] is True
    allowed = api.get(path, *MARKETING)
    assert allowed.status_code == 200
    assert set(allowed.json()["data"]) == {
        "id",
        "name",
        "phone",
        "email",
        "birth_date",
        "region",
        "tier",
        "notes",
    }

    withdrawn = api.post(f"{path}/consents/marketing/withdraw", *MARKETING)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["data"]["valid"] is False
    again = api.get(path, *MARKETING)  # the very next request
    assert again.status_code == 403
    assert again.json()["reason"] == "no_consent"

    history = api.get(f"{path}/consents", *SUPPORT).json()["data"]["history"]
    assert [event["kind"] for event in history if event["purpose"] == "marketing"] == [
        "grant",
        "withdraw",
    ]


def test_given_sensitive_field_then_withheld_until_separate_consent(api: Api) -> None:
    customer_id = new_customer(api)
    path = f"/v1/customers/{customer_id}"
    before = api.get(path, *SUPPORT).json()
    assert "id_number" not in before["data"]
    assert before["governance"]["fields"]["id_number"] == "withheld:no_separate_consent"
    assert before["governance"]["fields"]["bank_card"] == "withheld:no_separate_consent"
    assert before["data"]["phone"].endswith(before["data"]["phone"][-4:])

    assert grant(api, customer_id, SUPPORT, purpose="customer_service").status_code == 201
    still = api.get(path, *SUPPORT).json()
    assert still["governance"]["fields"]["id_number"] == "withheld:no_separate_consent"

    assert (
        grant(
            api, customer_id, SUPPORT, purpose="customer_service", separate=["sensitive"]
        ).status_code
        == 201
    )
    after = api.get(path, *SUPPORT).json()
    assert after["governance"]["fields"]["id_number"] == "masked"
    assert "*" in after["data"]["id_number"]


def test_given_minor_then_withheld_until_guardian_consent(api: Api) -> None:
    today = dt.datetime.now(dt.UTC).date()
    customer_id = new_customer(api, dt.date(today.year - 9, 3, 3))
    path = f"/v1/customers/{customer_id}"

    no_guardian = grant(api, customer_id, MARKETING, purpose="marketing")
    assert no_guardian.status_code == 422
    assert {"field": "guardian", "reason": "guardian_required"} in no_guardian.json()["errors"]
    assert api.get(path, *MARKETING).json()["reason"] == "no_consent"

    # Under a contract the desk serves the minor, but sensitive data needs the guardian.
    desk = api.get(path, *SUPPORT).json()
    assert desk["governance"]["fields"]["id_number"] in {
        "withheld:no_separate_consent",
        "withheld:guardian_consent_required",
    }

    granted = grant(
        api, customer_id, MARKETING, purpose="marketing", guardian={"ref": "guardian-0001"}
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["data"]["guardian"] is True
    assert api.get(path, *MARKETING).status_code == 200


@pytest.mark.parametrize("related", ["orders", "interactions"])
def test_given_no_consent_then_related_list_refused_alike_with_or_without_records(
    api: Api, related: str
) -> None:
    """Consent is decided on the customer before its related records are read: 200 with
    an empty list for a customer without any would tell that one with them exists."""
    consented = set(api.store.consented("marketing"))
    with_records = next(
        row[0]
        for row in api.store.sql(f"SELECT customer_id FROM {related} ORDER BY id")  # noqa: S608
        if row[0] not in consented
    )
    without_records = new_customer(api)
    assert not api.store.sql(
        f"SELECT id FROM {related} WHERE customer_id = :c",  # noqa: S608 - fixed names
        {"c": without_records},
    )

    answers = [
        api.get(f"/v1/customers/{customer_id}/{related}", *MARKETING)
        for customer_id in (with_records, without_records)
    ]

    assert [r.status_code for r in answers] == [403, 403]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["reason"] == "no_consent"
    entries = [
        api.store.sql(
            "SELECT outcome, status, reason, record_ids FROM audit_events WHERE request_id = :r",
            {"r": r.headers["x-request-id"]},
        )
        for r in answers
    ]
    assert entries[0] == entries[1]
    assert entries[0][0][:3] == ("denied", 403, "no_consent")

    assert grant(api, without_records, MARKETING, purpose="marketing").status_code == 201
    allowed = api.get(f"/v1/customers/{without_records}/{related}", *MARKETING)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["data"] == []


def test_given_consent_write_rights_then_marketing_records_only_its_own(api: Api) -> None:
    customer_id = new_customer(api)
    other_purpose = grant(api, customer_id, MARKETING, purpose="analytics")
    assert other_purpose.status_code == 403
    assert other_purpose.json()["reason"] == "consent_not_allowed"
    foreign = grant(api, customer_id, MARKETING, purpose="marketing", channel="support-desk")
    assert foreign.status_code == 403
    assert foreign.json()["reason"] == "foreign_channel"
    analytics = api.post(
        f"/v1/customers/{customer_id}/consents",
        "analytics-job",
        "analytics",
        json={"purpose": "analytics", "channel": "web", "notice_version": "n1"},
    )
    assert analytics.status_code == 403


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"purpose": "nonsense"}, "purpose", "unknown_purpose"),
        ({"purpose": "marketing", "separate": ["everything"]}, "separate", "invalid_scope"),
        (
            {"purpose": "marketing", "expires_at": "2001-01-01T00:00:00+00:00"},
            "expires_at",
            "invalid_expiry",
        ),
        ({"purpose": "marketing", "guardian": {"ref": "张三"}}, "guardian", "invalid_guardian"),
        ({"purpose": "marketing", "extra": 1}, "extra", "unknown_field"),
    ],
)
def test_given_bad_consent_then_422_naming_the_field(
    api: Api, body: dict[str, Any], field: str, reason: str
) -> None:
    customer_id = new_customer(api)
    before = api.store.count("consents")
    response = grant(api, customer_id, SUPPORT, **body)
    assert response.status_code == 422
    assert {"field": field, "reason": reason} in response.json()["errors"]
    assert api.store.count("consents") == before


def test_given_withdraw_without_grant_then_refused(api: Api) -> None:
    customer_id = new_customer(api)
    response = api.post(f"/v1/customers/{customer_id}/consents/marketing/withdraw", *SUPPORT)
    assert response.status_code == 422
    assert response.json()["reason"] == "not_granted"


def test_given_consent_changes_then_each_is_audited_without_values(api: Api) -> None:
    customer_id = new_customer(api)
    start = int(api.store.sql("SELECT max(seq) FROM audit_events")[0][0])
    grant(api, customer_id, SUPPORT, purpose="marketing", evidence="通话录音 138-0000-1111")
    api.post(f"/v1/customers/{customer_id}/consents/marketing/withdraw", *SUPPORT)
    rows = api.store.sql(
        "SELECT action, fields, subject_ids FROM audit_events WHERE seq > :s ORDER BY seq",
        {"s": start},
    )
    assert [row.action for row in rows] == ["consents.grant", "consents.withdraw"]
    assert "138-0000-1111" not in str([tuple(row) for row in rows])
    stored = api.store.sql(
        "SELECT evidence_hash FROM consents WHERE customer_id = :c", {"c": customer_id}
    )
    assert all(len(row[0] or "") in (0, 64) for row in stored)


def test_given_non_consent_basis_then_basis_recorded_in_audit(api: Api) -> None:
    customer_id = new_customer(api)
    api.get(f"/v1/customers/{customer_id}", *SUPPORT)
    (row,) = api.store.sql(
        "SELECT purpose, legal_basis FROM audit_events ORDER BY seq DESC LIMIT 1"
    )
    assert tuple(row) == ("customer_service", "contract")
