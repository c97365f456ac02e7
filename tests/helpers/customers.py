"""Creating customers and granting consent through the API, as the desk and the
marketing platform do: a valid body to start from, and the principals they act as."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.helpers.api import Api
from tests.helpers.synthetic_values import bank_card, resident_id

SUPPORT = ("support-desk", "customer_service")
MARKETING = ("marketing-app", "marketing")


def valid_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "欧阳测试",
        "id_number": resident_id(dt.date(1990, 3, 7)),
        "phone": "+86 139 1234 5678",
        "email": "Test.User@Example.COM",
        "address": "浙江省杭州市西湖区文三路100号",
        "bank_card": bank_card(),
        "birth_date": "1990-03-07",
        "region": "浙江省",
        "tier": "gold",
    }
    body.update(overrides)
    return body


def new_customer(api: Api, birth: dt.date = dt.date(1990, 5, 5)) -> str:
    body = valid_body(
        id_number=resident_id(birth), birth_date=birth.isoformat(), bank_card=bank_card()
    )
    response = api.post("/v1/customers", *SUPPORT, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def grant(api: Api, customer_id: str, principal: tuple[str, str], **body: Any) -> Any:
    payload = {"channel": principal[0], "notice_version": "notice-2026.1"} | body
    return api.post(f"/v1/customers/{customer_id}/consents", *principal, json=payload)
