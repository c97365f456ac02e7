"""The DPO's legal hold API on SQLite and PostgreSQL: rights from policy, stable
reasons, one audit entry per request without the note, and an append-only history."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy.exc import DBAPIError

from gateway.app import WardgateApp
from gateway.db.engine import create_database
from gateway.retention.holds import is_on_legal_hold
from tests.helpers.api import Api
from tests.helpers.retention import BACKENDS, entries
from tests.helpers.store import new_store

DPO = "privacy-desk"
DPO_PURPOSE = "data_subject_request"
NOTE = "张三 v. 公司 (2026) 京0105民初17号"  # a note may name people: never audited


@pytest.fixture(scope="module", params=BACKENDS)
def dpo_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """A demo store of its own; `privacy-desk` is the demo's DPO (role `dpo`)."""
    store = new_store(request, tmp_path_factory)
    with TestClient(app=WardgateApp(store.settings)) as client:  # type: ignore[arg-type]
        yield Api(client, store, client.app)  # type: ignore[arg-type]


def dpo_api_status(api: Api) -> int:
    customer = api.customer_ids()[0]
    return int(api.get(f"/v1/retention/holds/{customer}", DPO, DPO_PURPOSE).status_code)


def hold(api: Api, customer_id: str, body: Any, release: bool = False) -> Any:
    path = f"/v1/retention/holds/{customer_id}" + ("/release" if release else "")
    return api.post(path, DPO, DPO_PURPOSE, json=body)


def test_given_the_dpo_then_a_hold_is_set_read_and_released_each_audited_without_the_note(
    dpo_api: Api,
) -> None:
    customer = dpo_api.customer_ids()[0]

    created = hold(dpo_api, customer, {"reason": "litigation", "note": NOTE})
    read = dpo_api.get(f"/v1/retention/holds/{customer}", DPO, DPO_PURPOSE)
    released = hold(dpo_api, customer, {"reason": "case_closed"}, release=True)
    after = dpo_api.get(f"/v1/retention/holds/{customer}", DPO, DPO_PURPOSE)

    assert created.status_code == 201, created.text
    assert created.json()["data"]["active"] is True
    assert created.json()["data"]["set_by"] == DPO
    assert read.json()["data"]["on_hold"] is True
    assert released.status_code == 200
    assert released.json()["data"]["release_reason"] == "case_closed"
    assert after.json()["data"]["on_hold"] is False
    assert [h["note"] for h in after.json()["data"]["holds"]] == [NOTE]
    (set_entry,) = [
        e for e in entries(dpo_api.store, "retention.hold.set") if e["outcome"] == "allowed"
    ]
    assert set_entry["seq"] == created.json()["governance"]["audit_id"]
    assert set_entry["subject_ids"] == [customer]
    assert set_entry["fields"] == {"legal_hold": "set:litigation"}
    dump = str(dpo_api.store.sql("SELECT * FROM audit_events"))
    assert "张三" not in dump
    assert "民初" not in dump


def test_given_a_role_without_the_right_then_403_before_the_body_is_read(dpo_api: Api) -> None:
    customer = dpo_api.customer_ids()[0]

    response = dpo_api.post(
        f"/v1/retention/holds/{customer}",
        "support-desk",
        "customer_service",
        content=b"not json",
    )

    assert response.status_code == 403
    assert response.json()["reason"] == "legal_hold_not_allowed"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"note": "x"}, "reason", "required"),
        ({"reason": "because", "note": "x"}, "reason", "unknown_reason"),
        ({"reason": "litigation"}, "note", "required"),
        ({"reason": "litigation", "note": 7}, "note", "invalid_type"),
    ],
)
def test_given_a_bad_body_then_422_names_the_field_and_nothing_is_stored(
    dpo_api: Api, body: dict[str, Any], field: str, reason: str
) -> None:
    customer = dpo_api.customer_ids()[1]

    response = hold(dpo_api, customer, body)

    assert response.status_code == 422
    assert {"field": field, "reason": reason} in response.json()["errors"]
    assert (
        dpo_api.store.sql("SELECT id FROM legal_holds WHERE customer_id = :c", {"c": customer})
        == []
    )


def test_given_a_hold_twice_or_a_release_without_one_then_409(dpo_api: Api) -> None:
    customer = dpo_api.customer_ids()[2]

    first = hold(dpo_api, customer, {"reason": "regulatory_inquiry", "note": "n"})
    second = hold(dpo_api, customer, {"reason": "litigation", "note": "n"})
    hold(dpo_api, customer, {"reason": "set_in_error"}, release=True)
    again = hold(dpo_api, customer, {"reason": "set_in_error"}, release=True)

    assert first.status_code == 201
    assert (second.status_code, second.json()["reason"]) == (409, "already_on_hold")
    assert (again.status_code, again.json()["reason"]) == (409, "not_on_hold")


def test_given_an_unknown_customer_then_404(dpo_api: Api) -> None:
    response = hold(dpo_api, "cus_00000000000000000000000000", {"reason": "other", "note": "n"})

    assert (response.status_code, response.json()["reason"]) == (404, "not_found")


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM legal_holds",
        "UPDATE legal_holds SET reason = 'other'",
        "UPDATE legal_holds SET released_at = NULL, released_by = NULL",
    ],
)
def test_given_the_history_then_the_database_refuses_to_rewrite_it(
    dpo_api: Api, statement: str
) -> None:
    customer = dpo_api.customer_ids()[3]
    hold(dpo_api, customer, {"reason": "law_enforcement", "note": "n"})
    hold(dpo_api, customer, {"reason": "obligation_ended"}, release=True)

    with pytest.raises(DBAPIError):
        dpo_api.store.sql(statement)


def test_given_a_hold_then_erasure_on_request_is_refused_until_it_is_released(
    dpo_api: Api,
) -> None:
    customer = dpo_api.customer_ids()[4]
    hold(dpo_api, customer, {"reason": "litigation", "note": "n"})
    erasure = ("compliance-officer", "erasure")

    refused = dpo_api.delete(f"/v1/customers/{customer}", *erasure)
    hold(dpo_api, customer, {"reason": "case_closed"}, release=True)
    erased = dpo_api.delete(f"/v1/customers/{customer}", *erasure)

    assert (refused.status_code, refused.json()["reason"]) == (409, "legal_hold")
    assert erased.status_code == 200
    (refusal,) = [e for e in entries(dpo_api.store, "customers.erase") if e["outcome"] != "allowed"]
    assert refusal["subject_ids"] == [customer]


def test_given_a_hold_then_is_on_legal_hold_says_so_until_it_is_released(dpo_api: Api) -> None:
    customer = dpo_api.customer_ids()[5]

    def on_hold() -> bool:
        async def ask() -> bool:
            db = create_database(dpo_api.store.settings)
            try:
                async with db.reader.connect() as conn:
                    return await is_on_legal_hold(conn, customer)
            finally:
                await db.dispose()

        return asyncio.run(ask())

    before = on_hold()
    hold(dpo_api, customer, {"reason": "statutory_retention", "note": "n"})
    during = on_hold()
    hold(dpo_api, customer, {"reason": "obligation_ended"}, release=True)

    assert (before, during, on_hold()) == (False, True, False)
