"""Free text through the API: notes scanned on read per caller, classified on write."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import insert
from structlog.testing import capture_logs
from ulid import ULID

from gateway.compliance import log_reader
from gateway.db.engine import create_database
from gateway.db.opening import open_protector
from gateway.db.schema import store_tables
from masking import default_registry
from tests.helpers.api import Api
from tests.helpers.customers import MARKETING, SUPPORT, grant, valid_body
from tests.helpers.store import DEMO_CUSTOMERS, Store
from tests.helpers.synthetic_values import bank_card, resident_id

PHONE = "13912345678"
NAME = "王建国"
EMAIL = "wang.jianguo@example.com"
COMPLIANCE = ("compliance-officer", "compliance_audit")
# How the desk's plan shows each type found in free text (policies/default_policy.yaml).
DESK_MASKS = {
    "CN_MOBILE": "mobile",
    "PERSON": "person_name",
    "EMAIL_ADDRESS": "email",
    "CN_ADDRESS": "address",
}
SENSITIVE_MASKS = {"CN_RESIDENT_ID": "resident_id", "BANK_CARD": "bank_card"}


def mask(operator: str, value: str) -> str:
    return default_registry().bind(operator)(value)


def note_with_pii(id_number: str) -> str:
    return f"客户{NAME}来电，手机{PHONE}，身份证{id_number}，邮箱{EMAIL}，需回电。"


def create(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/customers", *SUPPORT, json=valid_body(**fields))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def as_json(value: object) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def add_interaction(store: Store, customer_id: str, summary: str) -> None:
    """An interaction stored as the demo seeding stores them (no API writes them)."""

    async def run() -> None:
        db = create_database(store.settings)
        try:
            protector = await open_protector(store.settings, db)
            key = await protector.keystore.current_key(customer_id)
            record_id = f"int_{ULID()}"
            now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            row = {
                "id": record_id,
                "customer_id": customer_id,
                "channel": "phone",
                "occurred_at": now,
                "summary": summary,
                "satisfaction": 4,
            }
            stored = protector.protect("interactions", row, record_id, key)
            async with db.writer.begin() as conn:
                await conn.execute(
                    insert(store_tables()["interactions"]),
                    stored | {"created_at": now, "updated_at": now},
                )
        finally:
            await db.dispose()

    asyncio.run(run())


# --- the done-when: one note, two callers, no value in any log ------------------------


def test_given_same_note_then_desk_and_marketing_see_its_pii_masked_differently(
    api: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    birth = dt.date(1985, 6, 1)
    id_number = resident_id(birth)
    values = (PHONE, id_number, EMAIL, NAME)
    caplog.set_level(logging.DEBUG)
    capsys.readouterr()
    with capture_logs() as structured:
        created = create(
            api,
            phone=PHONE,
            id_number=id_number,
            birth_date=birth.isoformat(),
            notes=note_with_pii(id_number),
        )
        customer_id = created["data"]["id"]
        desk_consent = grant(
            api, customer_id, SUPPORT, purpose="customer_service", separate=["sensitive"]
        )
        assert desk_consent.status_code == 201, desk_consent.text
        assert grant(api, customer_id, MARKETING, purpose="marketing").status_code == 201
        desk = api.get(f"/v1/customers/{customer_id}", *SUPPORT).json()
        marketing = api.get(f"/v1/customers/{customer_id}", *MARKETING).json()

    desk_note, marketing_note = desk["data"]["notes"], marketing["data"]["notes"]
    masked_phone = mask("mobile", PHONE)
    assert desk_note == (
        f"客户{mask('person_name', NAME)}来电，手机{masked_phone}，"
        f"身份证{mask('resident_id', id_number)}，邮箱{mask('email', EMAIL)}，需回电。"
    )
    # Marketing may not see ID numbers at all (outside its purpose): removed, type named.
    assert marketing_note == (
        f"客户{mask('person_name', NAME)}来电，手机{masked_phone}，"
        f"身份证[CN_RESIDENT_ID]，邮箱{mask('email', EMAIL)}，需回电。"
    )
    assert desk_note != marketing_note
    # A role that sees phones masked sees the phone in a note masked the same way.
    for body in (desk, marketing):
        assert body["data"]["phone"] == masked_phone
        assert body["governance"]["fields"]["notes"] == "scanned"
    assert not any(value in desk_note or value in marketing_note for value in values)

    structured_text = json.dumps(structured, ensure_ascii=False, default=str)
    stdlib_text = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    captured = capsys.readouterr()
    everything = "\n".join([structured_text, stdlib_text, captured.out, captured.err])
    assert structured, "the session was logged"
    assert [value for value in values if value in everything] == []


@pytest.mark.parametrize(
    ("surname", "honorific"), [("董", "女士"), ("王", "先生"), ("欧阳", "经理")]
)
def test_given_honorific_name_in_note_then_masked_as_the_name_field_is(
    api: Api, surname: str, honorific: str
) -> None:
    created = create(api, name=f"{surname}丽华", notes=f"{surname}{honorific}来电，要求回电。")

    body = api.get(f"/v1/customers/{created['data']['id']}", *SUPPORT).json()

    assert body["data"]["name"] == f"{surname}**"
    assert body["data"]["notes"] == f"{surname}*来电，要求回电。"


# --- consent inside text ------------------------------------------------------------------


def test_given_no_separate_consent_then_sensitive_data_is_removed_from_notes(api: Api) -> None:
    id_number, card = resident_id(dt.date(1986, 2, 3)), bank_card()
    note = f"证件号{id_number}，退款至银行卡{card}，手机{PHONE}。"
    customer_id = create(api, notes=note)["data"]["id"]
    path = f"/v1/customers/{customer_id}"

    before = api.get(path, *SUPPORT).json()
    assert before["governance"]["fields"]["id_number"] == "withheld:no_separate_consent"
    assert before["data"]["notes"] == (
        f"证件号[CN_RESIDENT_ID]，退款至银行卡[BANK_CARD]，手机{mask('mobile', PHONE)}。"
    )

    grant(api, customer_id, SUPPORT, purpose="customer_service", separate=["sensitive"])
    after = api.get(path, *SUPPORT).json()
    assert after["data"]["notes"] == (
        f"证件号{mask('resident_id', id_number)}，退款至银行卡{mask('bank_card', card)}，"
        f"手机{mask('mobile', PHONE)}。"
    )


def test_given_interaction_summary_then_consent_reaches_it_too(api: Api) -> None:
    """Interactions have no id_number column: the summary's ID number needs the separate
    consent a sensitive field would, all the same."""
    id_number = resident_id(dt.date(1991, 8, 8))
    customer_id = create(api)["data"]["id"]
    add_interaction(api.store, customer_id, f"核对身份证号{id_number}后重置密码。")
    path = f"/v1/customers/{customer_id}/interactions"

    (before,) = api.get(path, *SUPPORT).json()["data"]
    assert before["summary"] == "核对身份证号[CN_RESIDENT_ID]后重置密码。"

    grant(api, customer_id, SUPPORT, purpose="customer_service", separate=["sensitive"])
    (after,) = api.get(path, *SUPPORT).json()["data"]
    assert after["summary"] == f"核对身份证号{mask('resident_id', id_number)}后重置密码。"


def test_given_analytics_then_notes_stay_withheld(api: Api) -> None:
    customer_id = api.store.consented("analytics")[0]
    body = api.get(f"/v1/customers/{customer_id}", "analytics-job", "analytics").json()
    assert "notes" not in body["data"]
    assert body["governance"]["fields"]["notes"] == "withheld:denied"


# --- writes: classification stored and audited ----------------------------------------


def test_given_note_written_then_types_and_counts_stored_and_audited(api: Api) -> None:
    id_number = resident_id(dt.date(1988, 1, 9))
    created = create(api, notes=note_with_pii(id_number) + f"备用电话{PHONE}。")
    customer_id, seq = created["data"]["id"], created["governance"]["audit_id"]
    expected = {"CN_MOBILE": 2, "CN_RESIDENT_ID": 1, "EMAIL_ADDRESS": 1, "PERSON": 1}

    (stored,) = api.store.sql(
        "SELECT pii_classes FROM customers WHERE id = :id", {"id": customer_id}
    )
    assert as_json(stored[0]) == {"notes": expected}
    (entry,) = api.store.sql("SELECT * FROM audit_events WHERE seq = :s", {"s": seq})
    assert as_json(entry.classification) == {"notes": expected}
    raw_entry = json.dumps([str(v) for v in entry], ensure_ascii=False)
    assert not any(value in raw_entry for value in (PHONE, id_number, EMAIL, NAME))
    event = api.get(f"/v1/audit/events/{seq}", *COMPLIANCE).json()["data"]
    assert event["classification"] == {"notes": expected}

    patched = api.patch(f"/v1/customers/{customer_id}", *SUPPORT, json={"notes": "已回电。"})
    assert patched.status_code == 200, patched.text
    (stored,) = api.store.sql(
        "SELECT pii_classes FROM customers WHERE id = :id", {"id": customer_id}
    )
    assert as_json(stored[0]) == {"notes": {}}
    cleared = api.patch(f"/v1/customers/{customer_id}", *SUPPORT, json={"notes": None})
    assert cleared.status_code == 200, cleared.text
    (stored,) = api.store.sql(
        "SELECT pii_classes FROM customers WHERE id = :id", {"id": customer_id}
    )
    assert stored[0] is None

    verified = api.get("/v1/audit/verify", *COMPLIANCE).json()["data"]
    assert verified["ok"] is True, verified


def test_given_classified_entries_then_the_fast_verification_splice_reproduces_them(
    api: Api,
) -> None:
    """Verification splices entries from the stored JSON text (100k entries/s); an entry
    with a classification must come out byte for byte as it was hashed, or every such
    entry would fall back to the slow path."""
    create(api, notes=f"手机{PHONE}")

    async def rows() -> list[Any]:
        db = create_database(api.store.settings)
        try:
            async with db.reader.connect() as conn:
                return list((await conn.execute(log_reader._STREAM)).all())
        finally:
            await db.dispose()

    spliced = 0
    for row in asyncio.run(rows()):
        fast = log_reader._spliced(row)
        if fast is None:
            continue  # a driver that decodes JSON itself: the slow path decides
        assert hashlib.sha256(b"\x00" + fast).hexdigest() == row[-1], row[0]
        spliced += row.classification is not None
    if api.store.backend == "sqlite":
        assert spliced > 0


def test_given_write_without_free_text_then_no_classification_in_entry(api: Api) -> None:
    seq = create(api)["governance"]["audit_id"]
    (entry,) = api.store.sql("SELECT classification FROM audit_events WHERE seq = :s", {"s": seq})
    assert entry[0] is None


def detected_types(api: Api, text: str) -> dict[str, int]:
    """{entity type: count} of what the session's detector finds in `text`, counted here."""
    return dict(Counter(entity.entity_type for entity in api.state.scanner.detector.detect(text)))


def desk_masked(api: Api, text: str, separate_consent: bool) -> str:
    """`text` as the desk must see it: every detected value replaced by its mask, or by
    `[TYPE]` for a sensitive type without separate consent (the done-when note above)."""
    shown = text
    for entity in sorted(api.state.scanner.detector.detect(text), key=lambda e: -e.start):
        value = text[entity.start : entity.end]
        if entity.entity_type in DESK_MASKS:
            replacement = mask(DESK_MASKS[entity.entity_type], value)
        elif separate_consent:
            replacement = mask(SENSITIVE_MASKS[entity.entity_type], value)
        else:
            replacement = f"[{entity.entity_type}]"
        shown = shown[: entity.start] + replacement + shown[entity.end :]
    return shown


def test_given_seeded_store_then_notes_and_summaries_are_classified(api: Api) -> None:
    """Every seeded note and summary holds exactly the types and counts the detector finds
    in it, and the desk reads every seeded note with exactly those values masked."""
    # Seeding stamps every row with one instant, before any test writes: the earliest.
    seeded = "created_at = (SELECT min(created_at) FROM {table})"
    live = api.store.customers("erased_at IS NULL AND " + seeded.format(table="customers"))
    noted = [row for row in live if row["notes"] is not None]
    with_pii = [row for row in noted if detected_types(api, row["notes"])]
    assert len(with_pii) >= DEMO_CUSTOMERS // 2, "demo notes always hold PII"
    for row in noted:
        expected = detected_types(api, row["notes"])
        assert as_json(row["pii_classes"]) == {"notes": expected}, row["id"]

    summaries = api.store.decrypted(
        "interactions",
        "SELECT * FROM interactions WHERE "  # noqa: S608 - fixed text
        + seeded.format(table="interactions")
        + " AND customer_id IN (SELECT id FROM customers WHERE erased_at IS NULL) ORDER BY id",
    )
    assert summaries
    assert any(detected_types(api, row["summary"]) for row in summaries)
    assert any(not detected_types(api, row["summary"]) for row in summaries)
    for row in summaries:
        expected = detected_types(api, row["summary"])
        assert as_json(row["pii_classes"]) == {"summary": expected}, row["id"]

    shown = 0
    for row in noted:
        response = api.get(f"/v1/customers/{row['id']}", *SUPPORT)
        if response.status_code == 403:
            continue  # a minor without guardian consent: withheld whole (the consent tests)
        body = response.json()
        separate = body["governance"]["fields"]["id_number"] != "withheld:no_separate_consent"
        assert body["data"]["notes"] == desk_masked(api, row["notes"], separate), row["id"]
        shown += 1
    assert shown >= DEMO_CUSTOMERS // 2


# --- reads: what the shown text held, audited ------------------------------------------


def entry_classification(api: Api, body: dict[str, Any]) -> Any:
    seq = body["governance"]["audit_id"]
    (row,) = api.store.sql("SELECT classification FROM audit_events WHERE seq = :s", {"s": seq})
    return as_json(row[0])


def test_given_note_read_then_entry_records_its_types_and_counts_and_no_value(api: Api) -> None:
    id_number = resident_id(dt.date(1987, 4, 12))
    customer_id = create(api, notes=f"手机{PHONE}，身份证{id_number}。")["data"]["id"]

    body = api.get(f"/v1/customers/{customer_id}", *SUPPORT).json()

    expected = {"notes": {"CN_MOBILE": 1, "CN_RESIDENT_ID": 1}}
    assert entry_classification(api, body) == expected
    seq = body["governance"]["audit_id"]
    event = api.get(f"/v1/audit/events/{seq}", *COMPLIANCE).json()["data"]
    assert event["classification"] == expected
    raw = json.dumps(event, ensure_ascii=False)
    assert PHONE not in raw
    assert id_number not in raw
    verified = api.get("/v1/audit/verify", *COMPLIANCE).json()["data"]
    assert verified["ok"] is True, verified
    assert verified["entries"] > seq  # the read's own entry was verified


def test_given_interactions_listed_then_entry_sums_their_summaries(api: Api) -> None:
    id_number = resident_id(dt.date(1992, 3, 4))
    customer_id = create(api)["data"]["id"]
    add_interaction(api.store, customer_id, f"核对身份证号{id_number}，回拨手机{PHONE}。")
    add_interaction(api.store, customer_id, f"客户改用手机{PHONE}联系。")
    add_interaction(api.store, customer_id, "客户表示满意。")

    body = api.get(f"/v1/customers/{customer_id}/interactions", *SUPPORT).json()

    assert len(body["data"]) == 3
    # Counted as detected (the ID number itself is shown withheld: no separate consent).
    assert entry_classification(api, body) == {"summary": {"CN_MOBILE": 2, "CN_RESIDENT_ID": 1}}


def test_given_customer_page_then_entry_sums_the_classes_of_the_records_returned(
    api: Api,
) -> None:
    body = api.get("/v1/customers", *MARKETING, params={"limit": "100"}).json()
    assert body["governance"]["withheld_records"] > 0  # withheld records count for nothing

    shown = [item["id"] for item in body["data"]]
    stored = [
        as_json(row[1])
        for row in api.store.sql("SELECT id, pii_classes FROM customers")
        if row[0] in shown and row[1] is not None
    ]
    expected: dict[str, dict[str, int]] = {}
    for classes in stored:
        for name, counts in classes.items():
            for entity_type, count in counts.items():
                expected.setdefault(name, {})
                expected[name][entity_type] = expected[name].get(entity_type, 0) + count
    assert expected["notes"], "demo notes hold PII"
    assert entry_classification(api, body) == expected


@pytest.mark.parametrize(
    "read",
    ["notes_denied", "no_text_field", "no_note"],
)
def test_given_read_showing_no_text_then_entry_has_no_classification(api: Api, read: str) -> None:
    if read == "notes_denied":
        customer_id = api.store.consented("analytics")[0]
        response = api.get(f"/v1/customers/{customer_id}", "analytics-job", "analytics")
    elif read == "no_text_field":
        customer_id = api.store.sql("SELECT customer_id FROM orders ORDER BY id LIMIT 1")[0][0]
        response = api.get(f"/v1/customers/{customer_id}/orders", *SUPPORT)
    else:
        customer_id = create(api)["data"]["id"]
        response = api.get(f"/v1/customers/{customer_id}", *SUPPORT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]
    assert entry_classification(api, body) is None


# --- lists: one detection per page ------------------------------------------------------


class CountingDetector:
    """The real detector, counting the batched calls made to it."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.calls: list[int] = []

    def detect_many(self, texts: Any, *, language: str | None = None) -> Any:
        self.calls.append(len(texts))
        return self.detector.detect_many(texts, language=language)


def test_given_notes_read_again_then_detection_is_remembered_until_they_change(
    api: Api,
) -> None:
    id_number = resident_id(dt.date(1990, 10, 10))
    customer_id = create(api, notes=f"手机{PHONE}。")["data"]["id"]
    path = f"/v1/customers/{customer_id}"
    scanner = api.state.scanner

    first = api.get(path, *SUPPORT).json()["data"]["notes"]
    detected = scanner.detected
    assert api.get(path, *SUPPORT).json()["data"]["notes"] == first
    assert scanner.detected == detected  # answered from the cache

    patched = api.patch(path, *SUPPORT, json={"notes": f"身份证{id_number}。"})
    assert patched.status_code == 200, patched.text
    after = api.get(path, *SUPPORT).json()["data"]["notes"]
    assert after == "身份证[CN_RESIDENT_ID]。"  # the new text, scanned afresh
    assert scanner.detected > detected


def test_given_page_then_its_notes_are_scanned_in_one_batch(api: Api) -> None:
    scanner = api.state.scanner
    counting = CountingDetector(scanner.detector)
    scanner.detector = counting  # type: ignore[assignment]
    scanner._cache.clear()  # measure detection, not the cache
    try:
        body = api.get("/v1/customers", *SUPPORT, params={"limit": "40"}).json()
        again = api.get("/v1/customers", *SUPPORT, params={"limit": "40"}).json()
    finally:
        scanner.detector = counting.detector
    shown = [item for item in body["data"] if item.get("notes")]
    assert len(shown) > 5
    assert counting.calls == [len(shown)]  # one batch; the second page read hit the cache
    assert again["data"] == body["data"]
