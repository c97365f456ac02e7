"""Personal information at rest: ciphertext only, least decryption, lookup, erasure, tamper."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from gateway.db.engine import create_database
from gateway.db.opening import open_protector
from policies.catalog import default_catalog
from tests.helpers.api import Api
from tests.helpers.customers import SUPPORT, grant, valid_body
from tests.helpers.synthetic_values import bank_card, resident_id

ERASER = ("compliance-officer", "erasure")


def known_customer(api: Api, **overrides: Any) -> tuple[str, dict[str, Any]]:
    body = valid_body(
        id_number=resident_id(dt.date(1988, 8, 8)),
        birth_date="1988-08-08",
        phone=f"1391{os.getpid() % 10000:04d}{len(api.customer_ids()) % 1000:03d}",
        email=f"known.{len(api.customer_ids())}@example.org",
        bank_card=bank_card(),
        **overrides,
    )
    response = api.post("/v1/customers", *SUPPORT, json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"], body


def dump_store(api: Api) -> bytes:
    """Every byte the customer store holds, as a backup would."""
    settings = api.store.settings
    if api.store.backend == "sqlite":
        path = settings.sqlite_path
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
    assert settings.database_url is not None
    return subprocess.run(
        ["pg_dump", "--no-owner", settings.database_url],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout


def test_given_customers_created_then_no_personal_value_in_store_dump(api: Api) -> None:
    created = [known_customer(api)[1] for _ in range(3)]
    dump = dump_store(api)
    assert b"audit_events" in dump or api.store.backend == "sqlite"
    for body in created:
        for field in ("phone", "id_number", "email", "bank_card", "address"):
            value = str(body[field])
            assert value.encode() not in dump, field
        digits = "".join(ch for ch in body["phone"] if ch.isdigit())[-11:]
        assert digits.encode() not in dump
    # Seeded customers too.
    for row in api.store.customers()[:10]:
        for field in ("phone", "id_number", "email", "bank_card"):
            assert str(row[field]).encode() not in dump


def test_given_marketing_read_then_only_shown_fields_are_decrypted(api: Api) -> None:
    customer_id = api.store.consented("marketing", "analytics")[1]
    cipher = api.state.protector.cipher
    before = cipher.decryptions
    assert api.get(f"/v1/customers/{customer_id}", "marketing-app", "marketing").status_code == 200
    # name, phone, email, birth_date, notes (scanned): not id_number, bank_card or address.
    assert cipher.decryptions - before == 5
    before = cipher.decryptions
    assert api.get(f"/v1/customers/{customer_id}", "analytics-job", "analytics").status_code == 200
    assert cipher.decryptions - before == 1  # birth_date only
    before = cipher.decryptions
    api.get(f"/v1/customers/{customer_id}", "compliance-officer", "compliance_audit")
    assert cipher.decryptions == before


def _separately_consented(api: Api, customer_id: str) -> None:
    """The support desk's separate consent: its reads show the ID number and bank card."""
    granted = grant(api, customer_id, SUPPORT, purpose="customer_service", separate=["sensitive"])
    assert granted.status_code == 201, granted.text


def test_given_shown_id_number_and_no_birth_date_then_id_number_decrypted_once(
    api: Api,
) -> None:
    # Without a birth date the age comes from the ID number; the support desk is shown
    # that number anyway (separate consent), so it is decrypted once, not once more to
    # tell the age.
    with_birth_date, body = known_customer(api)
    del body["birth_date"]
    body["phone"] = body["phone"][:-1] + ("1" if body["phone"][-1] != "1" else "2")
    body["email"] = "no-birth-date." + body["email"]
    response = api.post("/v1/customers", *SUPPORT, json=body)
    assert response.status_code == 201, response.text
    without_birth_date = response.json()["data"]["id"]
    cipher = api.state.protector.cipher
    counts = []
    for customer_id in (with_birth_date, without_birth_date):
        _separately_consented(api, customer_id)
        before = cipher.decryptions
        response = api.get(f"/v1/customers/{customer_id}", *SUPPORT)
        assert response.status_code == 200, response.text
        counts.append(cipher.decryptions - before)
        assert response.json()["governance"]["fields"]["id_number"] == "masked"
        assert "*" in response.json()["data"]["id_number"]  # shown
    assert counts[1] == counts[0] - 1  # the birth date's decryption, and nothing more


@pytest.mark.parametrize("listing", [False, True], ids=["single", "page"])
def test_given_fields_withheld_by_consent_then_they_are_never_decrypted(
    api: Api, listing: bool
) -> None:
    # A tampered ciphertext fails its integrity check only when it is decrypted: the
    # bank card consent withholds must be neither decrypted nor reported, and once the
    # separate consent is granted the same read decrypts it and finds the tampering.
    victim, _ = known_customer(api)
    other, _ = known_customer(api)
    api.store.sql(
        "UPDATE customers SET bank_card = (SELECT bank_card FROM customers WHERE id = :other) "
        "WHERE id = :victim",
        {"other": other, "victim": victim},
    )
    cipher = api.state.protector.cipher

    def read() -> tuple[dict[str, Any], dict[str, Any], int, list[dict[str, Any]]]:
        before = cipher.decryptions
        with capture_logs() as logs:
            if listing:
                response = api.get("/v1/customers", *SUPPORT, params={"limit": "500"})
            else:
                response = api.get(f"/v1/customers/{victim}", *SUPPORT)
        assert response.status_code == 200, response.text
        body = response.json()
        data = body["data"]
        record = next(item for item in data if item["id"] == victim) if listing else data
        # The module's store is shared: other tests' tampered records may be listed too.
        alerts = [
            log for log in logs if log.get("log_level") == "error" and log["record_id"] == victim
        ]
        return body, record, cipher.decryptions - before, alerts

    body, record, withheld_count, alerts = read()
    assert "bank_card" not in record
    assert "id_number" not in record
    assert alerts == []
    if listing:
        assert body["governance"]["withheld_fields"][victim] == {
            "id_number": "no_separate_consent",
            "bank_card": "no_separate_consent",
        }
        errors = body["governance"].get("integrity_errors", [])
        assert [error for error in errors if error["id"] == victim] == []
    else:
        assert body["governance"]["fields"]["bank_card"] == "withheld:no_separate_consent"

    _separately_consented(api, victim)
    body, record, shown_count, alerts = read()
    assert "bank_card" not in record
    assert "*" in record["id_number"]
    assert [(log["field"], log["record_id"]) for log in alerts] == [("bank_card", victim)]
    if listing:
        assert {"id": victim, "field": "bank_card"} in body["governance"]["integrity_errors"]
    else:
        assert body["governance"]["fields"]["bank_card"] == "withheld:integrity_error"
        # Exactly the two fields the separate consent adds are decrypted on top.
        assert shown_count == withheld_count + 2


def test_given_record_withheld_whole_then_none_of_its_fields_is_decrypted(api: Api) -> None:
    # Marketing needs the customer's consent: without any, the record is refused whatever
    # the age, so not even the birth date is decrypted, read alone or in a page. (With
    # a consent, the age decides and is decrypted: see the marketing read above.)
    customer_id, body = known_customer(api)
    marketing = ("marketing-app", "marketing")
    cipher = api.state.protector.cipher
    before = cipher.decryptions
    single = api.get(f"/v1/customers/{customer_id}", *marketing)
    assert single.status_code == 403, single.text
    assert single.json()["reason"] == "no_consent"
    assert cipher.decryptions == before
    page = api.get("/v1/customers", *marketing, params={"phone": body["phone"]})
    assert page.status_code == 200, page.text
    assert (page.json()["data"], page.json()["governance"]["withheld_records"]) == ([], 1)
    assert cipher.decryptions == before


@pytest.mark.parametrize("field", ["phone", "email", "id_number"])
def test_given_lookup_by_field_then_exact_customer_found(api: Api, field: str) -> None:
    customer_id, body = known_customer(api)
    value = body[field]
    if field == "email":
        value = value.upper()  # normalized before indexing
    response = api.get("/v1/customers", *SUPPORT, params={field: value})
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["data"]] == [customer_id]
    assert response.json()["data"][0]["phone"].endswith(body["phone"][-4:])


def test_given_lookup_without_match_then_empty_page(api: Api) -> None:
    response = api.get("/v1/customers", *SUPPORT, params={"phone": "13800000000"})
    assert response.status_code == 200
    assert response.json()["data"] == []


def test_given_role_without_lookup_right_then_403_and_audited(api: Api) -> None:
    _, body = known_customer(api)
    before = api.store.count("audit_events")
    response = api.get(
        "/v1/customers", "marketing-app", "marketing", params={"id_number": body["id_number"]}
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "lookup_not_allowed"
    assert api.store.count("audit_events") == before + 1
    (entry,) = api.store.sql(
        "SELECT action, outcome, reason FROM audit_events ORDER BY seq DESC LIMIT 1"
    )
    assert tuple(entry) == ("customers.lookup.id_number", "denied", "lookup_not_allowed")


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"phone": "12"}, 422, "invalid_phone"),
        ({"phone": "13800000000", "email": "a@example.org"}, 400, "one_lookup_field"),
    ],
)
def test_given_bad_lookup_then_problem(
    api: Api, params: dict[str, str], status: int, reason: str
) -> None:
    response = api.get("/v1/customers", *SUPPORT, params=params)
    assert response.status_code == status
    assert response.json()["reason"] == reason


def test_given_tampered_ciphertext_then_field_withheld_with_integrity_error(api: Api) -> None:
    victim, _ = known_customer(api)
    other, _ = known_customer(api)
    # An attacker with database access moves another customer's phone ciphertext over.
    api.store.sql(
        "UPDATE customers SET phone = (SELECT phone FROM customers WHERE id = :other) "
        "WHERE id = :victim",
        {"other": other, "victim": victim},
    )
    with capture_logs() as logs:
        response = api.get(f"/v1/customers/{victim}", *SUPPORT)
    assert response.status_code == 200
    body = response.json()
    assert "phone" not in body["data"]
    assert body["governance"]["fields"]["phone"] == "withheld:integrity_error"
    assert body["data"]["name"] == "欧阳**"
    alerts = [log for log in logs if log.get("log_level") == "error"]
    assert alerts
    assert alerts[0]["field"] == "phone"
    assert alerts[0]["record_id"] == victim
    page = api.get("/v1/customers", *SUPPORT, params={"limit": "500"}).json()
    assert {"id": victim, "field": "phone"} in page["governance"]["integrity_errors"]


def _backup_rows(api: Api, customer_id: str) -> list[dict[str, Any]]:
    rows = api.store.sql("SELECT * FROM customers WHERE id = :id", {"id": customer_id})
    return [dict(row._mapping) for row in rows]


def _reveal_with_current_keys(api: Api, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        db = create_database(api.store.settings)
        try:
            protector = await open_protector(api.store.settings, db)
            fields = default_catalog().entity("customers").field_names
            return (await protector.reveal("customers", rows, fields)).rows
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_given_erasure_then_backup_taken_before_cannot_be_decrypted(api: Api) -> None:
    customer_id, body = known_customer(api)
    backup = _backup_rows(api, customer_id)
    before = _reveal_with_current_keys(api, backup)[0]
    assert before["phone"] == "".join(ch for ch in body["phone"] if ch.isdigit())[-11:]

    response = api.client.delete(f"/v1/customers/{customer_id}", headers=api.headers(*ERASER))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["erased"] is True

    after = _reveal_with_current_keys(api, backup)[0]
    for field in ("name", "phone", "email", "id_number", "bank_card", "address", "birth_date"):
        assert field not in after, f"{field} still decrypts from the backup"
    gone = api.get(f"/v1/customers/{customer_id}", *SUPPORT)
    assert gone.status_code == 410
    assert gone.json()["reason"] == "erased"
    assert api.get("/v1/customers", *SUPPORT, params={"phone": body["phone"]}).json()["data"] == []
    assert customer_id not in [
        c["id"] for c in api.get("/v1/customers", *SUPPORT, params={"limit": "500"}).json()["data"]
    ]
    again = api.client.delete(f"/v1/customers/{customer_id}", headers=api.headers(*ERASER))
    assert again.status_code == 410
    (entry,) = api.store.sql(
        "SELECT action, outcome, status FROM audit_events WHERE action = 'customers.erase' "
        "AND status = 200 ORDER BY seq DESC LIMIT 1"
    )
    assert tuple(entry) == ("customers.erase", "allowed", 200)


def test_given_role_without_erase_right_then_403(api: Api) -> None:
    customer_id, _ = known_customer(api)
    response = api.client.delete(f"/v1/customers/{customer_id}", headers=api.headers(*SUPPORT))
    assert response.status_code == 403
    assert response.json()["reason"] == "erase_not_allowed"
    assert api.get(f"/v1/customers/{customer_id}", *SUPPORT).status_code == 200


def test_given_sqlite_file_copy_then_erased_customer_unreadable_from_copy(
    api: Api, tmp_path: Path
) -> None:
    if api.store.backend != "sqlite":
        pytest.skip("file-level backup of the embedded store")
    customer_id, body = known_customer(api)
    backup = tmp_path / "backup.db"
    source = sqlite3.connect(api.store.settings.sqlite_path)
    target = sqlite3.connect(backup)
    source.backup(target)
    source.close()
    target.close()
    api.client.delete(f"/v1/customers/{customer_id}", headers=api.headers(*ERASER))
    rows = [
        dict(zip([c[0] for c in cur.description], row, strict=True))
        for cur in [
            sqlite3.connect(backup).execute("SELECT * FROM customers WHERE id = ?", (customer_id,))
        ]
        for row in cur.fetchall()
    ]
    assert rows, "the backup holds the customer's row"
    assert body["phone"].encode() not in backup.read_bytes()
    revealed = _reveal_with_current_keys(api, rows)[0]
    assert "phone" not in revealed
    assert "id_number" not in revealed
    shutil.rmtree(tmp_path, ignore_errors=True)
