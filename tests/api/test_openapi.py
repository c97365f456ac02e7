"""The OpenAPI document and the offline docs: valid, complete for every /v1 operation,
and true to what each route accepts and answers."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from openapi_spec_validator import validate

from gateway.app import WardgateApp
from gateway.consents import service as consent_service
from gateway.consents.schemas import ConsentGrant
from gateway.customers.schemas import CustomerCreate, CustomerUpdate
from gateway.db.init_store import init_store
from gateway.http.operations import operation_of
from gateway.settings import Settings
from policies.catalog import default_catalog
from tests.helpers.api import Api
from tests.helpers.store import Store

METHODS = ("get", "post", "patch", "put", "delete")
COMMON_HEADERS = {"XPurpose", "XOnBehalfOf", "XRequestId"}

# What each route reads from the query string, written down from its pipeline.
EXPECTED_QUERY: dict[tuple[str, str], set[str]] = {
    ("get", "/v1/customers"): {"limit", "cursor", "phone", "email", "id_number"},
    ("get", "/v1/customers/{customer_id}/interactions"): {"limit", "cursor"},
    ("get", "/v1/customers/{customer_id}/orders"): {"limit", "cursor"},
    ("get", "/v1/audit/events"): {
        "limit",
        "cursor",
        "order",
        "customer_id",
        "principal",
        "purpose",
        "action",
        "outcome",
        "reason",
        "since",
        "until",
    },
    ("get", "/v1/audit/checkpoints/latest"): {"refresh"},
    ("get", "/v1/audit/proofs/inclusion"): {"seq", "tree_size"},
    ("get", "/v1/audit/proofs/consistency"): {"first", "second"},
    ("get", "/v1/audit/export"): {"format"},
    ("post", "/v1/scan"): {"language"},
    ("get", "/v1/policy/rules"): {"role", "purpose"},
    ("delete", "/v1/policy/roles/{name}"): {"comment", "base_version"},
    ("delete", "/v1/policy/principals/{pid}"): {"comment", "base_version"},
    ("delete", "/v1/policy/rules/{rule_id}"): {"comment", "base_version"},
}
# Reserved handler parameters through which a handler could read input it does not declare.
_UNDECLARED_INPUT = {"request", "query", "headers", "cookies", "scope", "body", "state"}


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A small demo store of this module's own: the sweeps below leave many entries."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("openapi"), log_json=True)
    asyncio.run(init_store(settings, demo=True, customers=5))
    app = WardgateApp(settings)
    with TestClient(app=app) as client:  # type: ignore[arg-type]
        yield Api(client, Store(backend="sqlite", settings=settings), app)


@pytest.fixture(scope="module")
def document(docs: Api) -> dict[str, Any]:
    response = docs.client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def v1_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [op for op in operations(document) if op[1].startswith("/v1/")]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target  # type: ignore[no-any-return]


def documented_reasons(op: dict[str, Any], status: int) -> list[str]:
    response = op["responses"].get(str(status))
    assert response is not None, f"status {status} is not documented"
    schema = response["content"]["application/problem+json"]["schema"]
    return schema["allOf"][1]["properties"]["reason"]["enum"]  # type: ignore[no-any-return]


def query_params(document: dict[str, Any], op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    params = [resolve(document, p) for p in op.get("parameters", [])]
    return {p["name"]: p for p in params if p["in"] == "query"}


def concrete(path: str, customer_id: str) -> str:
    """The template filled with values that reach the handler."""
    values = {
        "customer_id": customer_id,
        "consent_purpose": "marketing",
        "seq": "1",
        "name": "analyst",
        "pid": "analytics-job",
        "key_id": "abc123",
        "rule_id": "r_000000000000",
        "purpose_id": "marketing",
        "version": "1",
        "first": "1",
        "second": "1",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def caller(path: str) -> tuple[str, str]:
    """A principal and purpose allowed to reach this operation's pipeline."""
    if path.startswith("/v1/policy"):
        return "security-admin", "policy_admin"
    if path.startswith("/v1/audit") or path.endswith("/access-report"):
        return "compliance-officer", "compliance_audit"
    return "support-desk", "customer_service"


def outsider(path: str) -> tuple[str, str]:
    """A principal that may use its purpose but holds no right on this operation."""
    if path.startswith(("/v1/policy", "/v1/audit")) or path.endswith("/access-report"):
        return "marketing-app", "marketing"
    return "security-admin", "policy_admin"


def send(api: Api, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
    return api.client.request(method.upper(), path, headers=headers, **kw)


def assert_problem(document: dict[str, Any], op: dict[str, Any], response: Any, where: str) -> None:
    """The answer is an RFC 9457 problem whose status and reason the operation documents."""
    assert response.headers["content-type"].startswith("application/problem+json"), where
    body = response.json()
    for key in ("type", "title", "status", "detail", "reason"):
        assert key in body, f"{where}: problem without {key}"
    assert body["status"] == response.status_code, where
    assert body["type"] == f"urn:wardgate:problem:{body['reason']}", where
    reasons = documented_reasons(op, response.status_code)
    assert body["reason"] in reasons, f"{where}: {body['reason']!r} not in {reasons}"


# --- the document --------------------------------------------------------------------


def test_given_the_document_then_it_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_given_every_v1_operation_then_security_headers_and_problems_are_documented(
    document: dict[str, Any],
) -> None:
    found = v1_operations(document)
    assert len(found) >= 32
    scheme = document["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    headers = {p["name"]: p for p in document["components"]["parameters"].values()}
    assert headers["X-Purpose"]["required"] is True
    assert "128 characters" in headers["X-On-Behalf-Of"]["description"]
    assert "X-Request-Id" in headers
    for method, path, op in found:
        where = f"{method.upper()} {path}"
        assert op["security"] == [{"apiKey": []}], where
        refs = {p["$ref"].rsplit("/", 1)[1] for p in op["parameters"] if "$ref" in p}
        assert refs >= COMMON_HEADERS, where
        assert set(documented_reasons(op, 401)) == {"missing_api_key", "invalid_api_key"}
        assert {"missing_purpose", "unknown_purpose"} <= set(documented_reasons(op, 400))
        assert "purpose_not_allowed" in documented_reasons(op, 403), where
        assert documented_reasons(op, 503) == ["audit_unavailable"], where
        for status, response in op["responses"].items():
            if int(status) >= 400:
                media = response["content"]["application/problem+json"]["schema"]["allOf"][0]
                assert media == {"$ref": "#/components/schemas/Problem"}, where
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "reason"}
    field_error = resolve(document, problem["properties"]["errors"]["items"])
    assert {"field", "reason"} <= set(field_error["required"])
    # Litestar's own error schema ({status_code, detail, extra}) is not what the API sends.
    assert '"status_code"' not in json.dumps(document)


def test_given_every_post_patch_put_then_its_request_body_is_documented(
    document: dict[str, Any],
) -> None:
    bodies = 0
    for method, path, op in operations(document):
        if method not in ("post", "patch", "put"):
            continue
        where = f"{method.upper()} {path}"
        assert "requestBody" in op, where
        schema = resolve(document, op["requestBody"]["content"]["application/json"]["schema"])
        assert schema["type"] == "object", where
        bodies += 1
    assert bodies >= 14
    create = document["paths"]["/v1/customers"]["post"]["requestBody"]
    assert create["required"] is True
    fields = resolve(document, create["content"]["application/json"]["schema"])
    assert fields["required"] == ["name"]
    assert fields["additionalProperties"] is False
    assert fields["properties"]["id_number"]["anyOf"][0]["pattern"] == "^[0-9]{17}[0-9Xx]$"
    scan = document["paths"]["/v1/scan"]["post"]["requestBody"]["content"]
    assert set(scan) == {"application/json", "text/plain"}


def test_given_bounded_query_parameters_then_their_type_and_bounds_are_documented(
    document: dict[str, Any],
) -> None:
    listing = query_params(document, document["paths"]["/v1/customers"]["get"])
    assert listing["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 500,
        "default": 50,
        "description": "Page size, 1 to 500.",
    }
    assert listing["cursor"]["schema"]["type"] == "string"
    events = query_params(document, document["paths"]["/v1/audit/events"]["get"])
    assert events["since"]["schema"]["format"] == "date-time"
    assert events["limit"]["schema"]["maximum"] == 500
    proof = query_params(document, document["paths"]["/v1/audit/proofs/inclusion"]["get"])
    assert proof["seq"]["required"] is True
    assert proof["seq"]["schema"]["maximum"] == 2**63 - 1
    export = query_params(document, document["paths"]["/v1/audit/export"]["get"])
    assert export["format"]["schema"]["enum"] == ["jsonl", "csv"]


# --- documented equals accepted ------------------------------------------------------


def _v1_handlers(api: Api) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    for route in api.app.litestar.routes:
        if isinstance(route, HTTPRoute) and route.path_format.startswith("/v1/"):
            for method, (handler, _) in route.route_handler_map.items():
                if method not in ("OPTIONS", "HEAD"):
                    yield method.lower(), route.path_format, handler


def test_given_each_route_then_documented_query_parameters_are_the_ones_it_accepts(
    docs: Api, document: dict[str, Any]
) -> None:
    handlers = list(_v1_handlers(docs))
    assert len(handlers) == len(v1_operations(document))
    for method, path, handler in handlers:
        where = f"{method.upper()} {path}"
        signature = handler.parsed_fn_signature.parameters
        # No door to undeclared input: what a handler reads is in its signature.
        assert not (_UNDECLARED_INPUT & set(signature)), where
        path_names = set(re.findall(r"\{(\w+)\}", path))
        dependencies = set(handler.resolve_dependencies())
        accepted = set(signature) - path_names - dependencies - {"self"}
        documented = set(query_params(document, document["paths"][path][method]))
        expected = EXPECTED_QUERY.get((method, path), set())
        assert accepted == documented == expected, where
        assert operation_of(handler) is not None, f"{where} declares no operation"


def test_given_a_value_outside_a_documented_bound_then_a_documented_400_names_it(
    docs: Api, document: dict[str, Any]
) -> None:
    customer_id = docs.customer_ids()[0]
    checked = 0
    for method, path, op in v1_operations(document):
        for name, param in query_params(document, op).items():
            schema = param["schema"]
            bad: list[str] = []
            if schema.get("type") == "integer":
                bad += ["x", "-1"]
                if "maximum" in schema:
                    bad.append(str(schema["maximum"] + 1))
            if "enum" in schema:
                bad.append("not-" + schema["enum"][0])
            if schema.get("format") == "date-time":
                bad.append("yesterday")
            # The other required parameters valid, so that this one is the problem.
            others = {
                other: str(spec["schema"].get("minimum", 1))
                for other, spec in query_params(document, op).items()
                if spec["required"] and other != name
            }
            for value in bad:
                headers = docs.headers(*caller(path))
                kwargs: dict[str, Any] = {"params": others | {name: value}}
                if path == "/v1/scan":
                    headers["Content-Type"] = "text/plain"
                    kwargs["content"] = "张伟"
                response = send(docs, method, concrete(path, customer_id), headers, **kwargs)
                where = f"{method.upper()} {path}?{name}={value}"
                assert response.status_code in (400, 422), where
                assert_problem(document, op, response, where)
                reason = response.json()["reason"]
                assert name in reason or reason in ("invalid_time", "unsupported_language"), where
                checked += 1
    assert checked >= 25


def test_given_a_body_field_not_documented_then_it_is_refused_by_name(
    docs: Api, document: dict[str, Any]
) -> None:
    customer_id = docs.customer_ids()[0]
    checked = 0
    for method, path, op in v1_operations(document):
        body = op.get("requestBody")
        if body is None:
            continue
        schema = resolve(document, body["content"]["application/json"]["schema"])
        if schema.get("additionalProperties") is not False:
            continue  # a body that is ignored (no body needed)
        where = f"{method.upper()} {path}"
        response = send(
            docs,
            method,
            concrete(path, customer_id),
            docs.headers(*caller(path)),
            json={"zz_not_documented": 1},
        )
        assert response.status_code == 422, f"{where}: {response.text}"
        assert_problem(document, op, response, where)
        assert {"field": "zz_not_documented", "reason": "unknown_field"} in [
            {k: e[k] for k in ("field", "reason")} for e in response.json()["errors"]
        ], where
        checked += 1
    assert checked >= 13


def test_given_every_documented_body_field_then_none_is_unknown_to_the_route(
    docs: Api, document: dict[str, Any]
) -> None:
    customer_id = docs.customer_ids()[0]
    for method, path, op in v1_operations(document):
        body = op.get("requestBody")
        if body is None:
            continue
        schema = resolve(document, body["content"]["application/json"]["schema"])
        if not schema.get("properties"):
            continue
        where = f"{method.upper()} {path}"
        # A value no field takes: the route refuses it, and so changes nothing.
        junk = {key: {"zz": [1]} for key in schema["properties"]}
        response = send(
            docs, method, concrete(path, customer_id), docs.headers(*caller(path)), json=junk
        )
        assert 400 <= response.status_code < 500, f"{where}: {response.text}"
        assert_problem(document, op, response, where)
        problem = response.json()
        reasons = [problem["reason"]] + [e["reason"] for e in problem.get("errors", [])]
        assert "unknown_field" not in reasons, f"{where}: {problem}"


def test_given_declared_body_structs_then_they_match_the_pipelines() -> None:
    entity = default_catalog().entity("customers")
    writable = {spec.name for spec in entity.fields if spec.writable}
    assert set(CustomerCreate.__struct_fields__) == writable
    assert set(CustomerUpdate.__struct_fields__) == writable
    required = {spec.name for spec in entity.fields if spec.required}
    assert required == {"name"}  # the only field without a default in CustomerCreate
    assert set(ConsentGrant.__struct_fields__) == consent_service._GRANT_FIELDS


# --- every refusal is documented --------------------------------------------------------


def test_given_refusals_on_every_operation_then_status_and_reason_are_documented(
    docs: Api, document: dict[str, Any]
) -> None:
    customer_id = docs.customer_ids()[0]
    keys = docs.store.keys
    for method, path, op in v1_operations(document):
        url = concrete(path, customer_id)
        principal, purpose = caller(path)
        other, other_purpose = outsider(path)
        variants: list[tuple[dict[str, str], int | None, str | None]] = [
            ({}, 401, "missing_api_key"),
            ({"Authorization": "Bearer wg_not_a_key"}, 401, "invalid_api_key"),
            ({"Authorization": f"Bearer {keys[principal]}"}, 400, "missing_purpose"),
            (docs.headers(principal, "no_such_purpose"), 400, "unknown_purpose"),
            (
                docs.headers(principal, "marketing" if purpose != "marketing" else "analytics"),
                403,
                "purpose_not_allowed",
            ),
            (
                docs.headers(principal, purpose) | {"X-On-Behalf-Of": "x" * 129},
                400,
                "invalid_on_behalf_of",
            ),
            # Allowed its purpose, but not this operation: the pipeline refuses.
            (docs.headers(other, other_purpose), None, None),
        ]
        for headers, status, reason in variants:
            where = f"{method.upper()} {path} with {sorted(headers)}"
            response = send(docs, method, url, headers, json={} if "requestBody" in op else None)
            if status is not None:
                assert (response.status_code, response.json()["reason"]) == (status, reason), where
            else:
                assert 400 <= response.status_code < 500, f"{where}: {response.text}"
            assert_problem(document, op, response, where)
        if "{customer_id}" in path:
            # A customer that does not exist: whatever the answer, it is documented.
            unknown = concrete(path, "cus_00000000000000000000000000")
            response = send(
                docs,
                method,
                unknown,
                docs.headers(principal, purpose),
                json={} if "requestBody" in op else None,
            )
            if response.status_code >= 400:
                assert_problem(document, op, response, f"{method.upper()} {unknown}")


def test_given_a_refused_lookup_then_its_one_entry_names_the_lookup(docs: Api) -> None:
    """The action comes from the operation's declaration, even when the provider refuses."""
    start = int(docs.store.sql("SELECT max(seq) FROM audit_events")[0][0])
    docs.get("/v1/customers", None, "customer_service", params={"phone": "13800138000"})
    docs.get("/v1/customers", None, "customer_service")
    docs.get("/v1/audit/events", "marketing-app", "no_such_purpose")
    rows = docs.store.sql(
        "SELECT action, status, reason FROM audit_events WHERE seq > :s ORDER BY seq",
        {"s": start},
    )
    assert [tuple(row) for row in rows] == [
        ("customers.lookup", 401, "missing_api_key"),
        ("customers.list", 401, "missing_api_key"),
        ("audit.events.list", 400, "unknown_purpose"),
    ]


def test_given_handlers_then_none_builds_the_governed_call_itself() -> None:
    """One provider builds the governed call; controllers never reach into app state."""
    gateway = Path(__file__).resolve().parents[2] / "gateway"
    for controllers in gateway.glob("*/controllers.py"):
        text = controllers.read_text()
        assert "begin_call" not in text, controllers
        assert "app.state" not in text, controllers
        assert "request_audit" not in text, controllers
    users = {
        p.relative_to(gateway).as_posix()
        for p in gateway.rglob("*.py")
        if re.search(r"\bbegin_call\(", p.read_text())
    }
    assert users == {"governance/call.py", "http/dependencies.py"}


# --- the docs, offline ---------------------------------------------------------------


def test_given_the_docs_page_then_it_loads_only_from_this_gateway(docs: Api) -> None:
    page = docs.client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "SwaggerUIBundle" in html
    assert not re.search(r"https?://", html), "the page names another host"
    assert not re.search(r"""(?:src|href)=["']//""", html), "protocol-relative URL"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert len(assets) >= 3
    for asset in assets:
        fetched = docs.client.get(asset)
        assert fetched.status_code == 200, asset
        assert len(fetched.content) > 0, asset
    script = docs.client.get("/schema/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert '"url": "/schema/openapi.json"' in html
    assert '"validatorUrl": null' in html


def test_given_the_root_then_it_redirects_to_the_docs_without_an_audit_entry(docs: Api) -> None:
    before = docs.store.count("audit_events")
    response = docs.client.get("/", follow_redirects=False)
    assert response.status_code in (301, 302, 303, 307, 308)
    assert response.headers["location"] == "/schema"
    assert docs.client.get("/").status_code == 200  # followed to the docs page
    assert docs.store.count("audit_events") == before
