"""X-On-Behalf-Of: the calling app's end user, stored decoded and exact, markup refused,
and required of the principals the policy says must name one.

Format: printable ASCII, or UTF-8 sent as is or percent-encoded; at most 128 characters
after decoding; no markup characters (< > " ' &) and no control characters.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.helpers.api import Api
from tests.helpers.loopback import RawClient
from tests.helpers.policy import admin_get, admin_patch, restored_policy
from tests.helpers.store import Store

SUPPORT = ("support-desk", "customer_service")
COMPLIANCE = ("compliance-officer", "compliance_audit")


def read_on_behalf_of(api: Api, value: str | bytes) -> tuple[Any, str, str]:
    """A support-desk read sent on behalf of `value`; (response, request id, customer)."""
    customer = api.customer_ids()[0]
    request_id = f"obo-{uuid.uuid4().hex[:12]}"
    headers: dict[str, Any] = api.headers(*SUPPORT) | {
        "X-On-Behalf-Of": value,
        "X-Request-Id": request_id,
    }
    response = api.client.get(f"/v1/customers/{customer}", headers=headers)
    return response, request_id, customer


def stored_on_behalf_of(api: Api, request_id: str) -> list[str | None]:
    rows = api.store.sql(
        "SELECT on_behalf_of FROM audit_events WHERE request_id = :rid", {"rid": request_id}
    )
    return [row[0] for row in rows]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("%E5%BC%A0%E4%B8%89", "张三"),
        ("张三".encode(), "张三"),
        ("é".encode(), "é"),
        ("%C3%A9", "é"),
        ("agent-7 (desk 3)", "agent-7 (desk 3)"),
        ("100%25", "100%"),
        ("x" * 128, "x" * 128),
        ("%E5%BC%A0" * 128, "张" * 128),
    ],
)
def test_given_an_end_user_id_then_it_is_stored_decoded_and_exact(
    api: Api, sent: str | bytes, stored: str
) -> None:
    response, request_id, _ = read_on_behalf_of(api, sent)

    assert response.status_code == 200, response.text
    assert stored_on_behalf_of(api, request_id) == [stored]


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ("<script>alert(1)</script>", "markup_character"),
        ("%3Cb%3E", "markup_character"),
        ("O'Brien", "markup_character"),
        ('say "hi"', "markup_character"),
        ("a&b", "markup_character"),
        ("line%0Abreak", "not_printable"),
        ("nul%00", "not_printable"),
        ("x" * 129, "too_long"),
        ("%E5%BC%A0" * 129, "too_long"),
        ("%ZZ", "invalid_encoding"),
        ("50%", "invalid_encoding"),
        ("%FF%FE", "invalid_encoding"),
        ("%20%20", "empty"),
    ],
)
def test_given_an_unacceptable_end_user_id_then_400_naming_the_header_and_why(
    api: Api, sent: str | bytes, reason: str
) -> None:
    response, request_id, _ = read_on_behalf_of(api, sent)

    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["reason"] == "invalid_on_behalf_of"
    assert problem["errors"] == [{"field": "X-On-Behalf-Of", "reason": reason}]
    assert "data" not in problem
    # Audited once, without the refused value.
    assert stored_on_behalf_of(api, request_id) == [None]


def test_given_stored_end_user_then_the_access_report_and_exports_carry_it_exactly(
    api: Api,
) -> None:
    response, _, customer = read_on_behalf_of(api, "%E5%BC%A0%E4%B8%89%20%C3%A9")
    assert response.status_code == 200, response.text

    report = api.get(f"/v1/customers/{customer}/access-report", *COMPLIANCE)
    assert report.status_code == 200, report.text
    assert report.headers["content-type"].startswith("application/json")
    names = {access["on_behalf_of"] for access in report.json()["data"]["accesses"]}
    assert "张三 é" in names
    for fmt in ("jsonl", "csv"):
        export = api.get(f"/v1/audit/export?format={fmt}", *COMPLIANCE)
        assert export.status_code == 200
        assert "张三 é" in export.content.decode("utf-8"), fmt
    lines = api.get("/v1/audit/export?format=jsonl", *COMPLIANCE).text.splitlines()
    entries = [json.loads(line)["entry"] for line in lines]
    # The entry exactly as hashed: a JSON text inside the line (or an object).
    entries = [json.loads(e) if isinstance(e, str) else e for e in entries]
    assert any(entry.get("on_behalf_of") == "张三 é" for entry in entries)


def test_given_a_principal_that_must_name_its_end_user_then_calls_without_it_are_refused(
    own_api: Api,
) -> None:
    customer = own_api.customer_ids()[0]
    with restored_policy(own_api):
        changed = admin_patch(
            own_api, "/v1/policy/principals/support-desk", {"require_on_behalf_of": True}
        )
        assert changed.status_code == 200, changed.text
        listed = admin_get(own_api, "/v1/policy/principals").json()["principals"]
        desk = next(p for p in listed if p["id"] == "support-desk")
        assert desk["require_on_behalf_of"] is True

        refused = own_api.get(f"/v1/customers/{customer}", *SUPPORT)
        assert refused.status_code == 400, refused.text
        assert refused.json()["reason"] == "on_behalf_of_required"
        assert refused.json()["errors"] == [{"field": "X-On-Behalf-Of", "reason": "required"}]
        served = own_api.client.get(
            f"/v1/customers/{customer}",
            headers=own_api.headers(*SUPPORT) | {"X-On-Behalf-Of": "agent-7"},
        )
        assert served.status_code == 200, served.text
        # Other principals are not affected.
        other = own_api.get(f"/v1/customers/{customer}", "analytics-job", "analytics")
        assert other.status_code in (200, 403)
        assert other.json().get("reason") != "on_behalf_of_required"

        bad = admin_patch(
            own_api, "/v1/policy/principals/support-desk", {"require_on_behalf_of": "yes"}
        )
        assert bad.status_code == 422
        problem = {"field": "require_on_behalf_of", "reason": "invalid_flag"}
        assert problem in bad.json()["errors"]
    after = own_api.get(f"/v1/customers/{customer}", *SUPPORT)
    assert after.status_code == 200, "the rollback lifts the requirement"


@pytest.mark.parametrize(
    ("raw", "status", "stored"),
    [
        ("张三".encode(), 200, "张三"),
        ("é".encode(), 200, "é"),
        (b"\xff\xfe", 400, None),  # not UTF-8: refused, never stored as mojibake
        ("é".encode("latin-1"), 400, None),
    ],
)
def test_given_raw_header_bytes_then_utf8_is_decoded_and_anything_else_refused(
    store: Store, served: tuple[str, int], raw: bytes, status: int, stored: str | None
) -> None:
    """Sent byte for byte by a real client (httpx would re-encode the value)."""
    customer = store.sql("SELECT id FROM customers ORDER BY id LIMIT 1")[0][0]
    request_id = f"obo-raw-{uuid.uuid4().hex[:12]}"
    headers: list[tuple[str, str | bytes]] = [
        ("Authorization", f"Bearer {store.keys['support-desk']}"),
        ("X-Purpose", "customer_service"),
        ("X-On-Behalf-Of", raw),
        ("X-Request-Id", request_id),
    ]
    client = RawClient(served)
    try:
        response = client.request("GET", f"/v1/customers/{customer}", headers)
    finally:
        client.close()

    assert response.status == status, response.body
    if status == 400:
        assert response.json()["errors"] == [
            {"field": "X-On-Behalf-Of", "reason": "invalid_encoding"}
        ]
    rows = store.sql(
        "SELECT on_behalf_of FROM audit_events WHERE request_id = :rid", {"rid": request_id}
    )
    assert [row[0] for row in rows] == [stored]
