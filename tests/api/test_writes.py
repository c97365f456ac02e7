"""Governed writes: every field validated, rights checked per field, nothing partial stored."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum import luhn
from stdnum.cn import ric

from tests.helpers.api import Api
from tests.helpers.customers import SUPPORT, valid_body
from tests.helpers.synthetic_values import resident_id


def test_given_valid_customer_then_created_normalized_and_shown_governed(api: Api) -> None:
    body = valid_body()
    response = api.post("/v1/customers", *SUPPORT, json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    customer_id = created["data"]["id"]
    assert customer_id.startswith("cus_")
    assert created["data"]["phone"] == "139****5678"
    assert created["data"]["name"] == "欧阳**"
    assert created["governance"]["fields"]["phone"] == "masked"
    (stored,) = api.store.customers("id = :id", {"id": customer_id})
    assert stored["phone"] == "13912345678"
    assert stored["email"] == "Test.User@example.com"
    assert stored["bank_card"] == body["bank_card"]
    assert ric.is_valid(body["id_number"])
    assert luhn.is_valid(stored["bank_card"])
    read_back = api.get(f"/v1/customers/{customer_id}", *SUPPORT).json()
    assert read_back["data"] == created["data"]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("id_number", "110105194912310021", "invalid_id_number"),
        ("phone", "12345678901", "invalid_phone"),
        ("bank_card", "6225880137065677", "invalid_bank_card"),
        ("email", "not-an-email", "invalid_email"),
        ("birth_date", "2999-01-01", "invalid_date"),
        ("tier", "diamond", "invalid_choice"),
        ("name", "", "required"),
        ("phone", 13912345678, "invalid_type"),
    ],
)
def test_given_invalid_field_then_422_names_it_and_nothing_stored(
    api: Api, field: str, value: object, reason: str
) -> None:
    before = api.store.count("customers")
    response = api.post("/v1/customers", *SUPPORT, json=valid_body(**{field: value}))
    assert response.status_code == 422
    problem = response.json()
    assert {"field": field, "reason": reason} in problem["errors"]
    assert problem["reason"] == reason
    assert str(value) not in response.text or str(value) in {"", "diamond"}
    assert api.store.count("customers") == before


def test_given_several_invalid_fields_then_each_is_named(api: Api) -> None:
    response = api.post(
        "/v1/customers", *SUPPORT, json=valid_body(phone="1", email="x", bank_card="42")
    )
    assert response.status_code == 422
    named = {error["field"] for error in response.json()["errors"]}
    assert named == {"phone", "email", "bank_card"}


def test_given_missing_required_name_then_422(api: Api) -> None:
    body = valid_body()
    del body["name"]
    response = api.post("/v1/customers", *SUPPORT, json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "name", "reason": "required"}]


def test_given_id_number_disagreeing_with_birth_date_then_422(api: Api) -> None:
    response = api.post("/v1/customers", *SUPPORT, json=valid_body(birth_date="1991-03-07"))
    assert response.status_code == 422
    assert {"field": "birth_date", "reason": "birth_date_mismatch"} in response.json()["errors"]


def test_given_unknown_field_then_422(api: Api) -> None:
    response = api.post("/v1/customers", *SUPPORT, json=valid_body(religion="none"))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "religion", "reason": "unknown_field"}]


def test_given_role_without_any_write_right_then_403_before_the_body_is_read(api: Api) -> None:
    """A caller that may write nothing learns nothing about which bodies are valid."""
    before = api.store.count("customers")
    for body in ({"name": "张三"}, {"religion": "x"}, {"phone": "12345"}):
        response = api.post("/v1/customers", "marketing-app", "marketing", json=body)
        assert response.status_code == 403
        assert response.json()["reason"] == "write_not_allowed"
    response = api.client.post(
        "/v1/customers",
        content=b"{not json",
        headers=api.headers("marketing-app", "marketing") | {"Content-Type": "text/plain"},
    )
    assert (response.status_code, response.json()["reason"]) == (403, "write_not_allowed")
    assert api.store.count("customers") == before


def test_given_id_in_body_then_refused_naming_the_field(api: Api) -> None:
    response = api.post(
        "/v1/customers", *SUPPORT, json=valid_body(id="cus_01J00000000000000000000000")
    )
    assert response.status_code == 403
    assert response.json()["errors"] == [{"field": "id", "reason": "field_not_writable"}]


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"{not json", "invalid_json"), (b"[1, 2]", "invalid_body"), (b"\x80{}", "invalid_json")],
)
def test_given_malformed_body_then_400(api: Api, content: bytes, reason: str) -> None:
    response = api.client.post(
        "/v1/customers",
        content=content,
        headers=api.headers(*SUPPORT) | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["reason"] == reason


def test_given_oversized_body_then_413(api: Api) -> None:
    response = api.post("/v1/customers", *SUPPORT, json=valid_body(address="区" * 2_000_000))
    assert response.status_code == 413
    assert response.json()["reason"] == "body_too_large"


def test_given_patch_then_only_named_fields_change(api: Api) -> None:
    customer_id = api.post("/v1/customers", *SUPPORT, json=valid_body()).json()["data"]["id"]
    response = api.patch(
        f"/v1/customers/{customer_id}", *SUPPORT, json={"phone": "13700001111", "tier": "silver"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["phone"] == "137****1111"
    (row,) = api.store.customers("id = :id", {"id": customer_id})
    assert (row["phone"], row["tier"], row["name"]) == ("13700001111", "silver", "欧阳测试")


def test_given_patch_with_one_bad_field_then_nothing_changes(api: Api) -> None:
    customer_id = api.post("/v1/customers", *SUPPORT, json=valid_body()).json()["data"]["id"]
    response = api.patch(
        f"/v1/customers/{customer_id}", *SUPPORT, json={"tier": "silver", "phone": "999"}
    )
    assert response.status_code == 422
    row = api.store.sql("SELECT tier FROM customers WHERE id = :id", {"id": customer_id})[0]
    assert row.tier == "gold"


def test_given_patch_id_number_against_stored_birth_date_then_mismatch(api: Api) -> None:
    customer_id = api.post("/v1/customers", *SUPPORT, json=valid_body()).json()["data"]["id"]
    response = api.patch(
        f"/v1/customers/{customer_id}",
        *SUPPORT,
        json={"id_number": resident_id(dt.date(1985, 1, 2))},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["reason"] == "birth_date_mismatch"


def test_given_patch_of_unknown_customer_then_404(api: Api) -> None:
    response = api.patch(
        "/v1/customers/cus_00000000000000000000000000", *SUPPORT, json={"tier": "gold"}
    )
    assert response.status_code == 404


def test_given_empty_patch_then_422_no_fields(api: Api) -> None:
    customer_id = api.customer_ids()[0]
    response = api.patch(f"/v1/customers/{customer_id}", *SUPPORT, json={})
    assert response.status_code == 422
    assert response.json()["reason"] == "no_fields"
