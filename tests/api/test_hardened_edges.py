"""Defects of the black-box test of issue 13, each pinned: bodies past the parser's limits,
foreign media types and encodings, checks made before authorization, OPTIONS answers
missing methods, control characters in query parameters. Each request leaves exactly
one audit entry; none gets a 5xx."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from tests.helpers.api import Api

SUPPORT = ("support-desk", "customer_service")
ADMIN = ("security-admin", "policy_admin")
COMPLIANCE = ("compliance-officer", "compliance_audit")


def send(
    api: Api,
    method: str,
    path: str,
    caller: tuple[str, str],
    content: bytes | None = None,
    content_type: str | None = "application/json",
) -> tuple[Any, int]:
    """The response, and how many audit entries the request left."""
    request_id = f"edge-{uuid.uuid4().hex}"
    headers = api.headers(*caller) | {"X-Request-Id": request_id}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = api.client.request(method, path, content=content, headers=headers)
    (count,) = api.store.sql(
        "SELECT count(*) FROM audit_events WHERE request_id = :rid", {"rid": request_id}
    )[0]
    return response, int(count)


def json_endpoints(api: Api) -> list[tuple[str, str, tuple[str, str]]]:
    customer = api.customer_ids()[0]
    return [
        ("POST", "/v1/customers", SUPPORT),
        ("PATCH", f"/v1/customers/{customer}", SUPPORT),
        ("POST", f"/v1/customers/{customer}/consents", SUPPORT),
        ("POST", "/v1/scan", SUPPORT),
        ("POST", "/v1/policy/rules", ADMIN),
        ("POST", "/v1/policy/explain", ADMIN),
    ]


BEYOND_LIMITS = [
    pytest.param(b"[" * 1000 + b"]" * 1000, "max_depth", id="nested-1000-deep"),
    pytest.param(b'{"a":' * 3000 + b"1" + b"}" * 3000, "max_depth", id="objects-3000-deep"),
    pytest.param(b'{"name": ' + b"1" * 5000 + b"}", "max_integer_digits", id="5000-digits"),
    pytest.param(json.dumps({"name": "x" * 70_000}).encode(), "max_string_chars", id="long"),
    pytest.param(json.dumps({f"f{i}": 1 for i in range(2000)}).encode(), "max_members", id="wide"),
]


@pytest.mark.parametrize(("content", "limit"), BEYOND_LIMITS)
def test_given_a_body_beyond_a_limit_then_every_json_endpoint_says_400_naming_it(
    api: Api, content: bytes, limit: str
) -> None:
    for method, path, caller in json_endpoints(api):
        response, entries = send(api, method, path, caller, content)
        assert response.status_code == 400, (path, response.text)
        problem = response.json()
        assert problem["reason"] == "invalid_json"
        assert problem["errors"] == [{"field": "body", "reason": limit}], path
        assert entries == 1, path


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b'{"name": "x"}', "text/plain", id="text-plain"),
        pytest.param('{"name": "张三"}'.encode("utf-16"), "application/json", id="utf-16-body"),
        pytest.param('{"name": "x"}'.encode("utf-16-le"), "application/json", id="utf-16-no-bom"),
        pytest.param(b'{"name": "x"}', "application/json; charset=utf-16", id="charset"),
        pytest.param(b'{"name": "x"}', None, id="no-content-type"),
    ],
)
def test_given_a_body_that_is_not_json_in_utf8_then_415(
    api: Api, content: bytes, content_type: str | None
) -> None:
    for method, path, caller in json_endpoints(api):
        if path == "/v1/scan" and content_type == "text/plain":
            continue  # the scan takes plain text by design
        response, entries = send(api, method, path, caller, content, content_type)
        assert response.status_code == 415, (path, response.text)
        assert response.json()["reason"] == "unsupported_media_type"
        assert entries == 1


@pytest.mark.parametrize(
    ("path", "caller", "reason"),
    [
        ("/v1/audit/proofs/consistency?first=bad", SUPPORT, "audit_not_allowed"),
        ("/v1/audit/proofs/consistency?first=1&second=x", ADMIN, "audit_not_allowed"),
        ("/v1/audit/proofs/inclusion?seq=-1", SUPPORT, "audit_not_allowed"),
        ("/v1/audit/events?since=yesterday", SUPPORT, "audit_not_allowed"),
        ("/v1/audit/events?limit=0", ADMIN, "audit_not_allowed"),
        ("/v1/audit/export?format=xml", SUPPORT, "audit_not_allowed"),
        ("/v1/customers?limit=bad", ADMIN, "no_access"),
        ("/v1/customers?limit=9999&cursor=forged", COMPLIANCE, "no_access"),
        ("/v1/customers?phone=13812345678&limit=bad", ("analytics-job", "analytics"), None),
        ("/v1/policy/rules?role=x", SUPPORT, "policy_admin_not_allowed"),
    ],
)
def test_given_a_caller_without_the_right_then_403_whatever_the_parameters(
    api: Api, path: str, caller: tuple[str, str], reason: str | None
) -> None:
    response, entries = send(api, "GET", path, caller)

    assert response.status_code == 403, response.text
    if reason is not None:
        assert response.json()["reason"] == reason
    assert entries == 1


def test_given_a_caller_without_the_right_on_related_records_then_403_before_the_limit(
    api: Api,
) -> None:
    customer = api.customer_ids()[0]
    for related in ("orders", "interactions"):
        response, _ = send(api, "GET", f"/v1/customers/{customer}/{related}?limit=x", ADMIN)
        assert (response.status_code, response.json()["reason"]) == (403, "no_access")


def test_given_options_on_any_route_then_allow_lists_every_method_of_the_path(api: Api) -> None:
    customer = api.customer_ids()[0]
    routes = [r for r in api.app.litestar.routes if isinstance(r, HTTPRoute)]
    checked = 0
    for route in routes:
        if not route.path.startswith("/v1") or "{" in route.path.replace("{customer_id:str}", ""):
            continue
        path = route.path.replace("{customer_id:str}", customer)
        response, _ = send(api, "OPTIONS", path, SUPPORT, content_type=None)
        assert response.status_code == 204, path
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == set(route.methods), path
        checked += 1
    assert checked >= 10
    response, _ = send(api, "OPTIONS", "/v1/customers", SUPPORT, content_type=None)
    assert response.headers["allow"] == "GET, OPTIONS, POST"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("principal=%00", "principal"),
        ("customer_id=x%00y", "customer_id"),
        ("action=%1F&outcome=allowed", "action"),
        ("purpose=%7F", "purpose"),
        ("13812345678=%00", "query"),  # a name that is not a word is not echoed
    ],
)
def test_given_a_control_character_in_a_query_parameter_then_400_naming_the_parameter(
    api: Api, query: str, named: str
) -> None:
    response, entries = send(api, "GET", f"/v1/audit/events?{query}", COMPLIANCE)

    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["reason"] == "invalid_query"
    assert problem["errors"] == [{"field": named, "reason": "control_character"}]
    assert "13812345678" not in response.text
    assert entries == 1


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/v1/audit/events?order=", "invalid_order"),
        ("/v1/audit/export?format=", "invalid_format"),
    ],
)
def test_given_an_empty_value_for_a_documented_choice_then_400_not_the_default(
    api: Api, path: str, reason: str
) -> None:
    """The document lists the values a choice takes; an empty one is not among them, so it
    is refused rather than read as "absent" (schemathesis' negative data found it)."""
    response, entries = send(api, "GET", path, COMPLIANCE)

    assert response.status_code == 400, response.text
    assert response.json()["reason"] == reason
    assert entries == 1


@pytest.mark.parametrize("key_id", ["é1", "١٢٣", "a" * 33, "ab-cd"])
def test_given_a_key_id_outside_its_documented_pattern_then_400(api: Api, key_id: str) -> None:
    """Key ids are ASCII letters and digits (the documented pattern); `str.isalnum` alone
    let other scripts' letters and digits through to a lookup."""
    response, entries = send(api, "DELETE", f"/v1/policy/keys/{key_id}", ADMIN)

    assert response.status_code == 400, response.text
    assert response.json()["reason"] == "invalid_key_id"
    assert entries == 1
