"""POST /v1/scan: entities and masked text per caller, values never echoed, bad input 4xx."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from masking import default_registry
from tests.helpers.api import Api
from tests.helpers.customers import SUPPORT
from tests.helpers.store import Store
from tests.helpers.synthetic_values import resident_id

COMPLIANCE = ("compliance-officer", "compliance_audit")
PHONE = "13912345678"
EMAIL = "li.na@example.com"


def last_seq(store: Store) -> int:
    return int(store.sql("SELECT coalesce(max(seq), -1) FROM audit_events")[0][0])


def entries_after(store: Store, seq: int) -> list[Any]:
    return store.sql("SELECT * FROM audit_events WHERE seq > :s ORDER BY seq", {"s": seq})


def as_json(value: object) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def scan(api: Api, principal: tuple[str | None, str], **kwargs: Any) -> Any:
    return api.post("/v1/scan", *principal, **kwargs)


def test_given_text_then_entities_and_masked_text_without_values(api: Api) -> None:
    id_number = resident_id(dt.date(1992, 4, 4))
    text = f"手机{PHONE}，身份证{id_number}，邮箱{EMAIL}。"
    start = last_seq(api.store)

    response = scan(api, SUPPORT, json={"text": text})

    assert response.status_code == 200, response.text
    body = response.json()
    found = {(e["type"], text[e["start"] : e["end"]]) for e in body["entities"]}
    assert found == {("CN_MOBILE", PHONE), ("CN_RESIDENT_ID", id_number), ("EMAIL_ADDRESS", EMAIL)}
    assert all(set(e) == {"type", "start", "end", "score"} for e in body["entities"])
    assert all(0 < e["score"] <= 1 for e in body["entities"])
    registry = default_registry()
    assert body["masked_text"] == (
        f"手机{registry.bind('mobile')(PHONE)}，身份证{registry.bind('resident_id')(id_number)}，"
        f"邮箱{registry.bind('email')(EMAIL)}。"
    )
    assert body["governance"]["entities"] == {
        "CN_MOBILE": "masked",
        "CN_RESIDENT_ID": "masked",
        "EMAIL_ADDRESS": "masked",
    }
    assert not any(value in response.text for value in (PHONE, id_number, EMAIL))
    (entry,) = entries_after(api.store, start)
    assert entry.seq == body["governance"]["audit_id"]
    assert entry.action == "text.scan"
    assert as_json(entry.classification) == {
        "text": {"CN_MOBILE": 1, "CN_RESIDENT_ID": 1, "EMAIL_ADDRESS": 1}
    }
    assert not any(value in str(tuple(entry)) for value in (PHONE, id_number, EMAIL))


def test_given_compliance_officer_then_types_and_offsets_but_every_value_withheld(
    api: Api,
) -> None:
    text = f"联系电话{PHONE}"
    response = scan(api, COMPLIANCE, json={"text": text, "language": "zh"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["masked_text"] == "联系电话[CN_MOBILE]"
    assert body["governance"]["entities"] == {"CN_MOBILE": "withheld:outside_purpose"}
    (entity,) = body["entities"]
    assert (entity["start"], entity["end"]) == (4, 15)


def test_given_plain_text_body_then_scanned_as_is(api: Api) -> None:
    response = api.client.post(
        "/v1/scan",
        content=f"请回电{PHONE}".encode(),
        headers=api.headers(*SUPPORT) | {"Content-Type": "text/plain; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["masked_text"] == "请回电139****5678"


def test_given_empty_text_then_empty_result_and_one_entry(api: Api) -> None:
    start = last_seq(api.store)
    response = scan(api, SUPPORT, json={"text": ""})

    assert response.status_code == 200
    assert response.json()["entities"] == []
    assert response.json()["masked_text"] == ""
    (entry,) = entries_after(api.store, start)
    assert as_json(entry.classification) == {"text": {}}


def test_given_text_over_the_limit_then_413(api: Api) -> None:
    limit = api.state.settings.scan_max_bytes
    start = last_seq(api.store)
    # Three bytes per character: one character over the limit in bytes, not in chars.
    text = "中" * (limit // 3 + 1)

    response = scan(api, SUPPORT, json={"text": text})

    assert response.status_code == 413
    problem = response.json()
    assert problem["reason"] == "text_too_large"
    assert problem["errors"] == [{"field": "text", "reason": "text_too_large"}]
    (entry,) = entries_after(api.store, start)
    assert (entry.status, entry.reason, entry.classification) == (413, "text_too_large", None)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"text": "\xff\xfe"}', "application/json"),
        ("手机".encode("gbk"), "text/plain"),
    ],
)
def test_given_invalid_utf8_then_400(api: Api, content: bytes, content_type: str) -> None:
    response = api.client.post(
        "/v1/scan", content=content, headers=api.headers(*SUPPORT) | {"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "invalid_utf8"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"text": 13912345678}, "text", "invalid_type"),
        ({"text": ["a"]}, "text", "invalid_type"),
        ({}, "text", "required"),
        ({"text": "x", "language": "fr"}, "language", "unsupported_language"),
        ({"text": "x", "mode": "fast"}, "mode", "unknown_field"),
    ],
)
def test_given_bad_body_then_422_naming_the_field(
    api: Api, body: dict[str, Any], field: str, reason: str
) -> None:
    response = scan(api, SUPPORT, json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": field, "reason": reason}]
    assert "13912345678" not in response.text


@pytest.mark.parametrize(
    ("content", "content_type", "status", "reason"),
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b'["text"]', "application/json", 400, "invalid_body"),
        # An escaped lone surrogate is no Unicode text: the JSON parser refuses it.
        (b'{"text": "\\ud800"}', "application/json", 400, "invalid_json"),
        ('{"text": "x"}'.encode("utf-16"), "application/json", 415, "unsupported_media_type"),
        (b'{"text": "x"}', "", 415, "unsupported_media_type"),
        (b"text=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_given_malformed_body_then_4xx(
    api: Api, content: bytes, content_type: str, status: int, reason: str
) -> None:
    response = api.client.post(
        "/v1/scan", content=content, headers=api.headers(*SUPPORT) | {"Content-Type": content_type}
    )
    assert response.status_code == status
    assert response.json()["reason"] == reason


def test_given_role_without_scan_right_then_403_and_one_entry(api: Api) -> None:
    start = last_seq(api.store)
    response = scan(api, ("analytics-job", "analytics"), json={"text": f"手机{PHONE}"})

    assert response.status_code == 403
    assert response.json()["reason"] == "scan_not_allowed"
    (entry,) = entries_after(api.store, start)
    assert (entry.outcome, entry.reason, entry.classification) == (
        "denied",
        "scan_not_allowed",
        None,
    )


def test_given_each_scan_request_then_exactly_one_audit_entry(api: Api) -> None:
    start = last_seq(api.store)
    statuses = [
        scan(api, SUPPORT, json={"text": "无个人信息"}).status_code,
        scan(api, SUPPORT, json={"text": 1}).status_code,
        scan(api, (None, "customer_service"), json={"text": "x"}).status_code,
        scan(api, COMPLIANCE, json={"text": "x"}).status_code,
    ]
    assert statuses == [200, 422, 401, 200]
    assert [row.status for row in entries_after(api.store, start)] == statuses
