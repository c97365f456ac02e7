"""Data subjects' requests through HTTP, on SQLite and PostgreSQL: each type filed,
verified, started and fulfilled or refused; the machine, the problems, the audit."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from litestar.testing import TestClient
from structlog.testing import capture_logs

from gateway.app import WardgateApp
from gateway.dsr.package import package_schema
from keys.keyring import MASTER_KEY_FILE
from policies.catalog import default_catalog
from tests.helpers.api import Api
from tests.helpers.store import Store, new_store

DPO = ("privacy-desk", "data_subject_request")
DESK = ("support-desk", "customer_service")


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(("sqlite", "aes256gcm"), id="sqlite"),
        pytest.param(("postgres", "aes256gcm"), id="postgres", marks=pytest.mark.postgres),
    ],
)
def dsr_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """A store of this module's own: deletion requests erase customers."""
    store = new_store(request, tmp_path_factory)
    app = WardgateApp(store.settings)
    with TestClient(app=app) as client:  # type: ignore[arg-type]
        yield Api(client, store, app)


def _file(api: Api, customer_id: str, kind: str, who: tuple[str, str] = DPO, **extra: Any) -> Any:
    return api.post("/v1/dsr", *who, json={"customer_id": customer_id, "type": kind, **extra})


def _ready(api: Api, customer_id: str, kind: str, **extra: Any) -> str:
    """A request filed by the desk, verified and started by the DPO."""
    filed = _file(api, customer_id, kind, DESK, **extra)
    assert filed.status_code == 201, filed.text
    dsr_id = filed.json()["data"]["id"]
    verified = api.post(
        f"/v1/dsr/{dsr_id}/verify", *DPO, json={"method": "id_document", "evidence": "ticket-4711"}
    )
    assert verified.status_code == 200, verified.text
    started = api.post(f"/v1/dsr/{dsr_id}/start", *DPO)
    assert started.status_code == 200, started.text
    return str(dsr_id)


def _entries(api: Api, request_id: str) -> list[Any]:
    return api.store.sql(
        "SELECT action, outcome, status, reason FROM audit_events WHERE request_id = :r",
        {"r": request_id},
    )


def test_the_desk_files_but_may_not_handle(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[0]
    filed = _file(dsr_api, customer, "access", DESK)
    assert filed.status_code == 201
    body = filed.json()["data"]
    assert body["status"] == "received"
    assert body["filed_by"] == "support-desk"
    assert body["days_left"] is not None
    assert body["overdue"] is False
    for path in ("verify", "start", "fulfil", "cancel"):
        refused = dsr_api.post(f"/v1/dsr/{body['id']}/{path}", *DESK, json={})
        assert refused.status_code == 403
        assert refused.json()["reason"] == "dsr_not_allowed"
    assert dsr_api.get("/v1/dsr", *DESK).status_code == 403
    # Marketing may not even file.
    refused = _file(dsr_api, customer, "access", ("marketing-app", "marketing"))
    assert refused.status_code == 403


def test_each_transition_leaves_one_audit_entry_and_a_history_row(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[1]
    filed = _file(dsr_api, customer, "explanation")
    dsr_id = filed.json()["data"]["id"]
    assert len(_entries(dsr_api, filed.headers["x-request-id"])) == 1
    verified = dsr_api.post(
        f"/v1/dsr/{dsr_id}/verify", *DPO, json={"method": "phone_otp", "evidence": "otp 123456"}
    )
    entries = _entries(dsr_api, verified.headers["x-request-id"])
    assert entries == [("dsr.verify", "allowed", 200, None)]
    shown = dsr_api.get(f"/v1/dsr/{dsr_id}", *DPO).json()["data"]
    assert shown["verification"]["method"] == "phone_otp"
    # A hash of the evidence, never the evidence.
    assert "123456" not in json.dumps(shown)
    assert not dsr_api.store.sql("SELECT 1 FROM dsr_requests WHERE evidence_hash LIKE '%123456%'")
    assert [h["action"] for h in shown["history"]] == ["file", "verify"]
    assert [h["by"] for h in shown["history"]] == ["privacy-desk", "privacy-desk"]


def test_a_transition_the_machine_forbids_is_409_with_the_current_status(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[2]
    dsr_id = _file(dsr_api, customer, "access").json()["data"]["id"]
    early = dsr_api.post(f"/v1/dsr/{dsr_id}/fulfil", *DPO)
    assert early.status_code == 409
    assert early.json()["reason"] == "wrong_status"
    assert early.json()["current_status"] == "received"
    assert dsr_api.post(f"/v1/dsr/{dsr_id}/cancel", *DPO).json()["data"]["status"] == "canceled"
    again = dsr_api.post(f"/v1/dsr/{dsr_id}/start", *DPO)
    assert again.status_code == 409
    assert again.json()["current_status"] == "canceled"


def test_refusal_without_a_reason_is_rejected_and_with_one_is_recorded(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[3]
    dsr_id = _file(dsr_api, customer, "deletion").json()["data"]["id"]
    missing = dsr_api.post(f"/v1/dsr/{dsr_id}/refuse", *DPO, json={"text": "不予删除"})
    assert missing.status_code == 422
    assert missing.json()["reason"] == "reason_required"
    assert missing.json()["errors"] == [{"field": "reason", "reason": "required"}]
    unknown = dsr_api.post(
        f"/v1/dsr/{dsr_id}/refuse", *DPO, json={"reason": "because", "text": "x"}
    )
    assert unknown.json()["errors"] == [{"field": "reason", "reason": "invalid_reason"}]
    still = dsr_api.get(f"/v1/dsr/{dsr_id}", *DPO).json()["data"]
    assert still["status"] == "received"
    refused = dsr_api.post(
        f"/v1/dsr/{dsr_id}/refuse",
        *DPO,
        json={"reason": "identity_not_verified", "text": "无法核实您的身份。"},
    )
    assert refused.status_code == 200
    assert refused.json()["data"]["refusal"] == {
        "reason": "identity_not_verified",
        "text": "无法核实您的身份。",
    }


def test_bad_input_gets_stable_reasons(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[4]
    unknown_type = _file(dsr_api, customer, "gossip")
    assert unknown_type.status_code == 422
    assert unknown_type.json()["reason"] == "unknown_type"
    no_changes = _file(dsr_api, customer, "correction")
    assert no_changes.json()["errors"] == [{"field": "changes", "reason": "required"}]
    assert _file(dsr_api, "cus_nobody", "access").status_code == 404
    assert dsr_api.get("/v1/dsr/dsr_nothing", *DPO).status_code == 404
    assert dsr_api.get("/v1/dsr?status=lost", *DPO).json()["reason"] == "invalid_status"
    before = dsr_api.store.count("dsr_requests")
    _file(dsr_api, customer, "access", extra_field=1)
    assert dsr_api.store.count("dsr_requests") == before


def test_extension_moves_the_due_date_by_working_days(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[5]
    filed = _file(dsr_api, customer, "access").json()["data"]
    extended = dsr_api.post(
        f"/v1/dsr/{filed['id']}/extend", *DPO, json={"days": 5, "reason": "大量历史记录需整理"}
    )
    assert extended.status_code == 200, extended.text
    moved = extended.json()["data"]
    assert moved["due_date"] > filed["due_date"]
    assert moved["days_left"] == filed["days_left"] + 5
    no_reason = dsr_api.post(f"/v1/dsr/{filed['id']}/extend", *DPO, json={"days": 5})
    assert no_reason.status_code == 422
    history = dsr_api.get(f"/v1/dsr/{filed['id']}", *DPO).json()["data"]["history"]
    assert history[-1]["detail"]["from"] == filed["due_date"]
    assert history[-1]["detail"]["to"] == moved["due_date"]


def test_access_package_validates_and_its_report_matches_the_audit_log(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[6]
    # Someone reads the person's data first: the report must show it.
    assert dsr_api.get(f"/v1/customers/{customer}", *DESK).status_code == 200
    dsr_id = _ready(dsr_api, customer, "access")
    done = dsr_api.post(f"/v1/dsr/{dsr_id}/fulfil", *DPO)
    assert done.status_code == 200, done.text
    assert done.json()["data"]["status"] == "completed"
    fulfil_seq = done.json()["governance"]["audit_id"]
    package = dsr_api.get(f"/v1/dsr/{dsr_id}/package", *DPO)
    assert package.status_code == 200
    content = package.json()
    jsonschema.validate(content, package_schema())
    expected = [
        row[0]
        for row in dsr_api.store.sql(
            "SELECT seq FROM audit_subjects WHERE subject_id = :c AND seq < :s ORDER BY seq",
            {"c": customer, "s": fulfil_seq},
        )
    ]
    assert [entry["seq"] for entry in content["access_report"]] == expected
    assert "customers.read" in {entry["action"] for entry in content["access_report"]}
    # The person's own data in clear: the same as the store holds.
    stored = dsr_api.store.customers("id = :c", {"c": customer})[0]
    assert content["customer"]["phone"] == stored["phone"]
    # The package at rest is ciphertext.
    raw = dsr_api.store.sql("SELECT package FROM dsr_requests WHERE id = :d", {"d": dsr_id})[0][0]
    assert stored["phone"] not in raw
    html = dsr_api.get(f"/v1/dsr/{dsr_id}/package?format=html", *DPO)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "个人信息查阅、复制请求答复" in html.text


def test_downloads_are_limited_and_each_is_audited(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[7]
    dsr_id = _ready(dsr_api, customer, "portability")
    assert dsr_api.post(f"/v1/dsr/{dsr_id}/fulfil", *DPO).status_code == 200
    limit = dsr_api.state.settings.dsr_package_downloads
    for _ in range(limit):
        got = dsr_api.get(f"/v1/dsr/{dsr_id}/package", *DPO)
        assert got.status_code == 200
        assert _entries(dsr_api, got.headers["x-request-id"]) == [
            ("dsr.download", "allowed", 200, None)
        ]
    over = dsr_api.get(f"/v1/dsr/{dsr_id}/package", *DPO)
    assert over.status_code == 410
    assert over.json()["reason"] == "download_limit_reached"
    assert len(_entries(dsr_api, over.headers["x-request-id"])) == 1
    dsr_api.store.sql(
        "UPDATE dsr_requests SET package_expires_at = '2020-01-01T00:00:00+00:00' WHERE id = :d",
        {"d": dsr_id},
    )
    expired = dsr_api.get(f"/v1/dsr/{dsr_id}/package", *DPO)
    assert expired.json()["reason"] == "package_expired"


def test_correction_is_validated_like_patch_and_applied(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[8]
    bad = _ready(dsr_api, customer, "correction", changes={"phone": "12345"})
    failed = dsr_api.post(f"/v1/dsr/{bad}/fulfil", *DPO)
    assert failed.status_code == 422
    assert failed.json()["errors"] == [{"field": "phone", "reason": "invalid_phone"}]
    after = dsr_api.get(f"/v1/dsr/{bad}", *DPO).json()["data"]
    assert after["status"] == "in_progress"
    assert after["failure"] == "invalid_phone"
    good = _ready(dsr_api, customer, "correction", changes={"phone": "13912345678"})
    done = dsr_api.post(f"/v1/dsr/{good}/fulfil", *DPO)
    assert done.status_code == 200, done.text
    assert done.json()["data"]["status"] == "completed"
    assert done.json()["data"]["result"]["fields"] == ["phone"]
    assert dsr_api.store.customers("id = :c", {"c": customer})[0]["phone"] == "13912345678"


def test_explanation_names_purposes_and_legal_bases_in_chinese(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[9]
    dsr_id = _ready(dsr_api, customer, "explanation")
    assert dsr_api.post(f"/v1/dsr/{dsr_id}/fulfil", *DPO).status_code == 200
    content = dsr_api.get(f"/v1/dsr/{dsr_id}/package", *DPO).json()
    purposes = {entry["purpose"]: entry for entry in content["purposes"]}
    assert purposes["customer_service"]["legal_basis"] == "contract"
    assert "保存期限为1095日" in purposes["customer_service"]["statement_zh"]
    consented = set(dsr_api.store.consented("marketing"))
    assert ("marketing" in purposes) == (customer in consented)
    page = dsr_api.get(f"/v1/dsr/{dsr_id}/package?format=html", *DPO).text
    assert "处理规则说明" in page
    assert "客户服务" in page


def test_deletion_erases_and_reads_get_410(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[10]
    access = _ready(dsr_api, customer, "access")
    assert dsr_api.post(f"/v1/dsr/{access}/fulfil", *DPO).status_code == 200
    dsr_id = _ready(dsr_api, customer, "deletion")
    done = dsr_api.post(f"/v1/dsr/{dsr_id}/fulfil", *DPO)
    assert done.status_code == 200, done.text
    result = done.json()["data"]["result"]
    assert result["erasure_audit_id"] == done.json()["governance"]["audit_id"]
    assert dsr_api.get(f"/v1/customers/{customer}", *DESK).status_code == 410
    assert dsr_api.store.sql(
        "SELECT count(*) FROM interactions WHERE customer_id = :c", {"c": customer}
    ) == [(0,)]
    # The earlier access package was shredded with the customer's keys.
    shredded = dsr_api.get(f"/v1/dsr/{access}/package", *DPO)
    assert shredded.status_code == 410
    assert shredded.json()["reason"] == "erased"
    # Nothing more can be filed for an erased customer.
    assert _file(dsr_api, customer, "access").status_code == 410


def test_a_legal_hold_refuses_deletion(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[11]
    # The DPO puts the customer under a legal hold (the retention work's API).
    hold = dsr_api.post(
        f"/v1/retention/holds/{customer}", *DPO, json={"reason": "litigation", "note": "case 17"}
    )
    assert hold.status_code == 201, hold.text
    dsr_id = _ready(dsr_api, customer, "deletion")
    held = dsr_api.post(f"/v1/dsr/{dsr_id}/fulfil", *DPO)
    assert held.status_code == 409
    assert held.json()["reason"] == "legal_hold"
    assert _entries(dsr_api, held.headers["x-request-id"]) == [
        ("dsr.fulfil", "invalid", 409, "legal_hold")
    ]
    shown = dsr_api.get(f"/v1/dsr/{dsr_id}", *DPO).json()["data"]
    assert shown["status"] == "refused"
    assert shown["refusal"]["reason"] == "legal_hold"
    assert dsr_api.get(f"/v1/customers/{customer}", *DESK).status_code == 200


def test_listing_shows_days_left_and_filters(dsr_api: Api) -> None:
    listed = dsr_api.get("/v1/dsr?status=received", *DPO)
    assert listed.status_code == 200
    rows = listed.json()["data"]
    assert rows
    assert all(row["status"] == "received" for row in rows)
    assert all(isinstance(row["days_left"], int) for row in rows)
    closed = dsr_api.get("/v1/dsr?status=completed", *DPO).json()["data"]
    assert all(row["days_left"] is None and row["overdue"] is False for row in closed)


def test_a_backup_taken_before_deletion_yields_nothing_for_that_customer(
    dsr_api: Api, tmp_path: Path
) -> None:
    if dsr_api.store.backend != "sqlite":
        pytest.skip("the file copy stands for a backup of the embedded store")
    customer = dsr_api.customer_ids()[12]
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    # An online backup (SQLite's backup API), as an operator's backup job takes it.
    with (
        closing(sqlite3.connect(dsr_api.store.settings.sqlite_path)) as source,
        closing(sqlite3.connect(backup_dir / "wardgate.db")) as target,
    ):
        source.backup(target)
    dsr_id = _ready(dsr_api, customer, "deletion")
    assert dsr_api.post(f"/v1/dsr/{dsr_id}/fulfil", *DPO).status_code == 200
    # The backup restored beside today's master key and key store (kept apart from
    # store backups, as the README says): the customer's data keys are gone from it.
    settings = dsr_api.store.settings
    shutil.copy(settings.data_dir / MASTER_KEY_FILE, backup_dir / MASTER_KEY_FILE)
    restored = Store(
        backend="sqlite",
        settings=settings.with_overrides(
            data_dir=backup_dir, keystore_url=f"sqlite+aiosqlite:///{settings.keystore_path}"
        ),
    )
    (row,) = restored.decrypted(
        "customers", "SELECT * FROM customers WHERE id = :c", {"c": customer}
    )
    encrypted = [f.name for f in default_catalog().entity("customers").fields if f.encrypted]
    assert not any(name in row for name in encrypted)
    assert restored.decrypted(
        "customers", "SELECT * FROM customers WHERE id = :c", {"c": dsr_api.customer_ids()[0]}
    )[0].get("name")


def test_a_dsr_session_leaves_no_personal_value_in_any_log(
    dsr_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    customer = dsr_api.customer_ids()[13]
    stored = dsr_api.store.customers("id = :c", {"c": customer})[0]
    values = {str(stored[f]) for f in ("name", "phone", "email", "id_number") if stored.get(f)}
    caplog.set_level(logging.DEBUG)
    with capture_logs() as structured:
        access = _ready(dsr_api, customer, "access")
        dsr_api.post(f"/v1/dsr/{access}/fulfil", *DPO)
        dsr_api.get(f"/v1/dsr/{access}/package", *DPO)
        dsr_api.get(f"/v1/dsr/{access}/package?format=html", *DPO)
        bad = _ready(dsr_api, customer, "correction", changes={"phone": stored["phone"] + "9"})
        dsr_api.post(f"/v1/dsr/{bad}/fulfil", *DPO)
        _file(dsr_api, customer, "access", changes={"phone": stored["phone"]})
    assert structured
    text = json.dumps(structured, ensure_ascii=False, default=str) + "\n".join(
        record.getMessage() for record in caplog.records if record.name != "httpx"
    )
    assert not [value for value in values if value in text]


def test_a_customer_erased_before_fulfilment_leaves_the_request_in_progress_with_410(
    dsr_api: Api,
) -> None:
    customer = dsr_api.customer_ids()[14]
    dsr_id = _ready(dsr_api, customer, "access")
    erased = dsr_api.delete(f"/v1/customers/{customer}", "compliance-officer", "erasure")
    assert erased.status_code == 200
    failed = dsr_api.post(f"/v1/dsr/{dsr_id}/fulfil", *DPO)
    assert failed.status_code == 410
    assert failed.json()["reason"] == "erased"
    shown = dsr_api.get(f"/v1/dsr/{dsr_id}", *DPO).json()["data"]
    assert (shown["status"], shown["failure"]) == ("in_progress", "erased")
    assert shown["package"] is None


def test_two_dpos_moving_one_request_at_once_move_it_once(dsr_api: Api) -> None:
    customer = dsr_api.customer_ids()[15]
    dsr_id = _file(dsr_api, customer, "access").json()["data"]["id"]
    body = {"method": "id_document", "evidence": "counter 7"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(lambda _: dsr_api.post(f"/v1/dsr/{dsr_id}/verify", *DPO, json=body), range(4))
        )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    history = dsr_api.get(f"/v1/dsr/{dsr_id}", *DPO).json()["data"]["history"]
    assert [h["action"] for h in history] == ["file", "verify"]
