"""Governed reads: fields and masks differ by role and purpose; governance says why."""

from __future__ import annotations

import re

import pytest

from tests.helpers.api import Api

# Values the detector finds reliably (checksums, fixed shapes) wherever a text holds them.
DETECTED = ("phone", "id_number", "email", "bank_card")


@pytest.fixture
def customer(api: Api) -> dict[str, object]:
    """The stored (clear) values of one seeded customer, read around the gateway."""
    chosen = api.store.consented("customer_service", "marketing", "analytics")[0]
    return api.store.customers("id = :id", {"id": chosen})[0]


def test_given_support_desk_then_contact_data_is_masked(
    api: Api, customer: dict[str, object]
) -> None:
    response = api.get(f"/v1/customers/{customer['id']}", "support-desk", "customer_service")
    assert response.status_code == 200
    body = response.json()
    data, governance = body["data"], body["governance"]
    assert data["id"] == customer["id"]
    phone = str(customer["phone"])
    assert data["phone"] == f"{phone[:3]}****{phone[-4:]}"
    id_number = str(customer["id_number"])
    assert data["id_number"] == id_number[:3] + "*" * 11 + id_number[-4:]
    card = str(customer["bank_card"])
    assert data["bank_card"] == card[:6] + "*" * (len(card) - 10) + card[-4:]
    assert data["name"] != customer["name"]
    assert str(data["name"]).startswith(str(customer["name"])[0])
    assert data["tier"] == customer["tier"]
    # Notes are shown with the personal data inside them masked or withheld.
    assert data["notes"]
    assert not any(str(customer[f]) in data["notes"] for f in DETECTED if customer.get(f))
    assert governance["purpose"] == "customer_service"
    assert governance["policy_version"] == 1
    assert governance["fields"]["phone"] == "masked"
    assert governance["fields"]["tier"] == "clear"
    assert governance["fields"]["notes"] == "scanned"
    assert isinstance(governance["audit_id"], int)


def test_given_marketing_then_no_identity_documents(api: Api, customer: dict[str, object]) -> None:
    response = api.get(f"/v1/customers/{customer['id']}", "marketing-app", "marketing")
    assert response.status_code == 200
    body = response.json()
    assert set(body["data"]) == {
        "id",
        "name",
        "phone",
        "email",
        "birth_date",
        "region",
        "tier",
        "notes",
    }
    fields = body["governance"]["fields"]
    for withheld in ("id_number", "bank_card", "address"):
        assert fields[withheld] == "withheld:denied"
    assert fields["notes"] == "scanned"
    assert not any(str(customer[f]) in body["data"]["notes"] for f in DETECTED)
    email = str(customer["email"])
    assert body["data"]["email"] == f"{email[0]}***@{email.split('@')[1]}"


def test_given_analytics_then_only_pseudonymized_ids_and_attributes(
    api: Api, customer: dict[str, object]
) -> None:
    response = api.get(f"/v1/customers/{customer['id']}", "analytics-job", "analytics")
    assert response.status_code == 200
    body = response.json()
    data = body["data"]
    assert set(data) == {"id", "birth_date", "region", "tier"}
    assert re.fullmatch(r"psn_[0-9a-f]{16}", str(data["id"]))
    assert data["id"] != customer["id"]
    assert body["governance"]["fields"]["id"] == "pseudonymized"
    assert str(data["birth_date"]).endswith("-**-**")
    # Stable per purpose: the same customer gets the same pseudonym on the next read.
    again = api.get(f"/v1/customers/{customer['id']}", "analytics-job", "analytics").json()
    assert again["data"]["id"] == data["id"]


def test_given_three_callers_then_three_different_views(
    api: Api, customer: dict[str, object]
) -> None:
    views = {
        principal: api.get(f"/v1/customers/{customer['id']}", principal, purpose).json()["data"]
        for principal, purpose in (
            ("support-desk", "customer_service"),
            ("marketing-app", "marketing"),
            ("analytics-job", "analytics"),
        )
    }
    assert len({tuple(sorted(v)) for v in views.values()}) == 3


def test_given_orders_then_analytics_sees_amounts_with_pseudonymized_customer(api: Api) -> None:
    consented = set(api.store.consented("analytics"))
    customer_id = next(
        row[0]
        for row in api.store.sql("SELECT customer_id FROM orders ORDER BY id")
        if row[0] in consented
    )
    response = api.get(f"/v1/customers/{customer_id}/orders", "analytics-job", "analytics")
    assert response.status_code == 200
    body = response.json()
    assert body["data"], "the customer has orders"
    first = body["data"][0]
    assert "delivery_address" not in first
    assert re.fullmatch(r"\d+\.\d{2}", str(first["amount"]))
    assert (
        first["customer_id"]
        == api.get(f"/v1/customers/{customer_id}", "analytics-job", "analytics").json()["data"][
            "id"
        ]
    )


def test_given_interactions_then_summary_scanned_and_rest_shown(api: Api) -> None:
    customer_id = api.store.sql("SELECT customer_id FROM interactions ORDER BY id LIMIT 1")[0][0]
    (customer,) = api.store.customers("id = :id", {"id": customer_id})
    response = api.get(
        f"/v1/customers/{customer_id}/interactions", "support-desk", "customer_service"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["governance"]["fields"]["summary"] == "scanned"
    assert all("summary" in item and "channel" in item for item in body["data"])
    summaries = " ".join(item["summary"] for item in body["data"])
    assert not any(str(customer[f]) in summaries for f in DETECTED if customer.get(f))


def test_given_pages_then_cursor_walks_every_customer_once(api: Api) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "7"} | ({"cursor": cursor} if cursor else {})
        response = api.get("/v1/customers", "support-desk", "customer_service", params=params)
        assert response.status_code == 200
        body = response.json()
        assert len(body["data"]) <= 7
        seen.extend(item["id"] for item in body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == api.customer_ids()


def test_given_analyst_cursor_then_it_does_not_reveal_the_real_id(api: Api) -> None:
    body = api.get("/v1/customers", "analytics-job", "analytics", params={"limit": "2"}).json()
    last_real_id = api.customer_ids()[1]
    assert body["next_cursor"] is not None
    assert last_real_id not in body["next_cursor"]
    assert all(item["id"].startswith("psn_") for item in body["data"])


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"limit": "501"}, "invalid_limit"),
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "ten"}, "invalid_limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
    ],
)
def test_given_bad_page_parameters_then_400_with_reason(
    api: Api, params: dict[str, str], reason: str
) -> None:
    response = api.get("/v1/customers", "support-desk", "customer_service", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["reason"] == reason


def test_given_cursor_from_another_purpose_then_rejected(api: Api) -> None:
    cursor = api.get("/v1/customers", "marketing-app", "marketing", params={"limit": "1"}).json()[
        "next_cursor"
    ]
    response = api.get(
        "/v1/customers", "support-desk", "customer_service", params={"cursor": cursor}
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("principal", "purpose", "status", "reason"),
    [
        (None, "customer_service", 401, "missing_api_key"),
        ("support-desk", None, 400, "missing_purpose"),
        ("support-desk", "fortune_telling", 400, "unknown_purpose"),
        ("support-desk", "marketing", 403, "purpose_not_allowed"),
        ("compliance-officer", "compliance_audit", 403, "no_access"),
        ("security-admin", "policy_admin", 403, "no_access"),
    ],
)
def test_given_refused_call_then_problem_json_with_reason(
    api: Api, principal: str | None, purpose: str | None, status: int, reason: str
) -> None:
    customer_id = api.customer_ids()[0]
    response = api.get(f"/v1/customers/{customer_id}", principal, purpose)
    assert response.status_code == status
    problem = response.json()
    assert problem["status"] == status
    assert problem["reason"] == reason
    assert problem["type"] == f"urn:wardgate:problem:{reason}"
    assert "data" not in problem


def test_given_wrong_key_then_401(api: Api) -> None:
    response = api.client.get(
        "/v1/customers",
        headers={"Authorization": "Bearer wg_not-a-real-key", "X-Purpose": "customer_service"},
    )
    assert response.status_code == 401
    assert response.json()["reason"] == "invalid_api_key"


def test_given_unknown_customer_then_404(api: Api) -> None:
    response = api.get(
        "/v1/customers/cus_00000000000000000000000000", "support-desk", "customer_service"
    )
    assert response.status_code == 404
    assert response.json()["reason"] == "not_found"
    related = api.get(
        "/v1/customers/cus_00000000000000000000000000/orders", "support-desk", "customer_service"
    )
    assert related.status_code == 404


def test_given_request_id_then_echoed(api: Api) -> None:
    response = api.client.get("/healthz", headers={"X-Request-Id": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    generated = api.client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])


def test_given_ops_endpoints_then_they_answer(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    schema = api.client.get("/schema/openapi.json")
    assert schema.status_code == 200
    assert "/v1/customers/{customer_id}" in schema.json()["paths"]
    assert not any(path.startswith("/bench") for path in schema.json()["paths"])
