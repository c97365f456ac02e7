"""One audit entry per /v1 request — allowed, denied or invalid — append-only, fail closed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import DBAPIError

from tests.helpers.api import Api
from tests.helpers.customers import SUPPORT, valid_body
from tests.helpers.store import Store


def audit_rows(store: Store, after_seq: int) -> list[dict[str, object]]:
    rows = store.sql("SELECT * FROM audit_events WHERE seq > :s ORDER BY seq", {"s": after_seq})
    return [dict(row._mapping) for row in rows]


def last_seq(store: Store) -> int:
    return int(store.sql("SELECT coalesce(max(seq), -1) FROM audit_events")[0][0])


def test_given_scripted_session_then_exactly_one_entry_per_request(api: Api) -> None:
    customer_id = api.customer_ids()[0]
    before_count = api.store.count("audit_events")
    start = last_seq(api.store)
    session = [
        lambda: api.get(f"/v1/customers/{customer_id}", *SUPPORT),  # allowed
        lambda: api.get("/v1/customers", "marketing-app", "marketing"),  # allowed list
        lambda: api.get(f"/v1/customers/{customer_id}/orders", "analytics-job", "analytics"),
        lambda: api.get(f"/v1/customers/{customer_id}", None, "customer_service"),  # 401
        lambda: api.get(f"/v1/customers/{customer_id}", "support-desk", "marketing"),  # 403
        lambda: api.get(f"/v1/customers/{customer_id}", "support-desk", "nonsense"),  # 400
        lambda: api.get("/v1/customers", *SUPPORT, params={"limit": "9999"}),  # 400
        lambda: api.get("/v1/customers/cus_00000000000000000000000000", *SUPPORT),  # 404
        lambda: api.get("/v1/no-such-thing", *SUPPORT),  # 404 from the router
        lambda: api.client.delete(f"/v1/customers/{customer_id}", headers=api.headers(*SUPPORT)),
        lambda: api.client.put(f"/v1/customers/{customer_id}", headers=api.headers(*SUPPORT)),
        lambda: api.post("/v1/customers", *SUPPORT, json=valid_body()),  # 201
        lambda: api.post("/v1/customers", *SUPPORT, json=valid_body(phone="1")),  # 422
        lambda: api.post("/v1/customers", "marketing-app", "marketing", json={"tier": "gold"}),
    ]
    statuses = [call().status_code for call in session]
    assert statuses == [200, 200, 200, 401, 403, 400, 400, 404, 404, 403, 405, 201, 422, 403]
    assert api.store.count("audit_events") - before_count == len(session)
    rows = audit_rows(api.store, start)
    assert [row["status"] for row in rows] == statuses
    assert [row["outcome"] for row in rows] == [
        "allowed", "allowed", "allowed", "denied", "denied", "invalid", "invalid",
        "invalid", "invalid", "denied", "invalid", "allowed", "invalid", "denied",
    ]  # fmt: skip
    first = rows[0]
    assert first["principal_id"] == "support-desk"
    assert first["purpose"] == "customer_service"
    assert first["legal_basis"] == "contract"
    assert first["action"] == "customers.read"
    assert first["policy_version"] == 1
    assert rows[3]["reason"] == "missing_api_key"
    assert rows[4]["reason"] == "purpose_not_allowed"
    assert rows[9]["reason"] == "erase_not_allowed"
    assert rows[12]["reason"] == "invalid_phone"


def test_given_read_then_entry_names_fields_records_and_on_behalf_of(api: Api) -> None:
    customer_id = api.customer_ids()[1]
    start = last_seq(api.store)
    response = api.client.get(
        f"/v1/customers/{customer_id}",
        headers=api.headers(*SUPPORT) | {"X-On-Behalf-Of": "agent-0042", "X-Request-Id": "req-42"},
    )
    assert response.status_code == 200
    (row,) = audit_rows(api.store, start)
    assert row["seq"] == response.json()["governance"]["audit_id"]
    assert row["request_id"] == "req-42"
    assert row["on_behalf_of"] == "agent-0042"
    fields = row["fields"] if isinstance(row["fields"], dict) else json.loads(str(row["fields"]))
    record_ids = row["record_ids"]
    record_ids = record_ids if isinstance(record_ids, list) else json.loads(str(record_ids))
    assert fields["phone"] == "masked"
    assert fields["notes"] == "scanned"
    assert record_ids == [customer_id]


def test_given_audit_rows_then_no_stored_value_appears_in_them(api: Api) -> None:
    api.get("/v1/customers", *SUPPORT, params={"limit": "40"})
    api.post("/v1/customers", *SUPPORT, json=valid_body(phone="1"))
    values = {
        str(value)
        for row in api.store.customers()
        for key, value in row.items()
        if value and key in ("name", "id_number", "phone", "email", "bank_card")
    }
    dump = json.dumps(
        [dict(r._mapping) for r in api.store.sql("SELECT * FROM audit_events")],
        ensure_ascii=False,
        default=str,
    )
    assert values, "the store has customers"
    assert not [value for value in values if value in dump]


def test_given_update_delete_or_truncate_on_audit_table_then_database_refuses(api: Api) -> None:
    api.get("/v1/customers", *SUPPORT)
    before = api.store.count("audit_events")
    assert before > 0
    statements = ["UPDATE audit_events SET status = 200", "DELETE FROM audit_events"]
    if api.store.backend == "postgres":
        statements.append("TRUNCATE audit_events")  # SQLite has no TRUNCATE
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            api.store.sql(statement)
    assert api.store.count("audit_events") == before


@pytest.fixture
def broken_audit(api: Api) -> Iterator[None]:
    """Make every audit insert fail, as a full disk or a revoked grant would."""
    if api.store.backend == "sqlite":
        api.store.sql(
            "CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit store down'); END"
        )
        yield
        api.store.sql("DROP TRIGGER test_audit_down")
    else:
        api.store.sql(
            "CREATE FUNCTION test_audit_down() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit store down'; END $$"
        )
        api.store.sql(
            "CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION test_audit_down()"
        )
        yield
        api.store.sql("DROP TRIGGER test_audit_down ON audit_events")
        api.store.sql("DROP FUNCTION test_audit_down()")


def test_given_audit_store_failing_then_503_and_no_data(api: Api, broken_audit: None) -> None:
    customer_id = api.customer_ids()[0]
    before_customers = api.store.count("customers")
    read = api.get(f"/v1/customers/{customer_id}", *SUPPORT)
    assert read.status_code == 503
    assert read.json()["reason"] == "audit_unavailable"
    assert "data" not in read.json()
    page = api.get("/v1/customers", *SUPPORT)
    assert page.status_code == 503
    assert customer_id not in page.text
    denied = api.get(f"/v1/customers/{customer_id}", None, "customer_service")
    assert denied.status_code == 503
    write = api.post("/v1/customers", *SUPPORT, json=valid_body())
    assert write.status_code == 503
    assert api.store.count("customers") == before_customers


def test_given_audit_store_back_then_reads_work_again(api: Api) -> None:
    customer_id = api.customer_ids()[0]
    assert api.get(f"/v1/customers/{customer_id}", *SUPPORT).status_code == 200
