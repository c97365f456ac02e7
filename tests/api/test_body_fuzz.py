"""No body causes a 5xx: generated JSON posted to EVERY body-taking /v1 endpoint.

Hypothesis generates documents that stress the parser and the pipelines behind it —
deep nesting, wide objects, huge integers and floats, odd Unicode (lone surrogates
escaped, or sent as invalid UTF-8), NaN-like tokens, the endpoints' own field names
with values of every type — under JSON and other media types. Every answer must be
below 500, and every request must leave exactly one audit entry (counted by request id
once the run is over). The example count is modest so the run stays well under a
minute per backend; the endpoints come from the app's routing table, so a new
body-taking route is fuzzed without changing this file.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from gateway.app import WardgateApp
from tests.helpers.api import Api
from tests.helpers.store import STORE_PARAMS, new_store

BODY_METHODS = ("POST", "PATCH", "PUT", "DELETE")
PARAMETERS = {
    "name": "fuzz-role",
    "pid": "fuzz-principal",
    "rule_id": "r0",
    "key_id": "k0",
    "purpose_id": "marketing",
    "consent_purpose": "marketing",
    "version": "1",
    "request_id": "exp_0",
    "dsr_id": "dsr_0",
}
CALLERS = {
    "/v1/policy": ("security-admin", "policy_admin"),
    "/v1/aggregates": ("analytics-job", "analytics"),
    "/v1/approvals": ("data-steward", "analytics"),
    "/v1/dsr": ("privacy-desk", "data_subject_request"),
    "/v1/retention": ("privacy-desk", "data_subject_request"),
}
DEFAULT_CALLER = ("support-desk", "customer_service")
OPTIONS = ("comment", "base_version", "acknowledge")
# Field names each endpoint knows (by a part of its path), so generated values reach the
# pipelines' validators instead of stopping at `unknown_field`.
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "/consents": ("purpose", "channel", "notice_version", "evidence", "separate", "guardian",
                  "expires_at"),
    "/v1/customers": ("name", "phone", "email", "id_number", "bank_card", "address",
                      "birth_date", "notes", "tier", "region"),
    "/v1/scan": ("text", "language"),
    "/v1/aggregates": ("entity", "measures", "group_by", "filters", "epsilon"),
    "/v1/approvals": ("reason", "scope"),
    "/explain": ("principal", "roles", "purpose", "customer_id"),
    "/principals": ("id", "roles", "purposes", "description", "require_on_behalf_of", *OPTIONS),
    "/rules": ("role", "purpose", "target", "action", "effect", "operator", *OPTIONS),
    "/purposes": ("id", "name_zh", "name_en", "legal_basis", "categories", "third_party",
                  "marketing", "retention_days", *OPTIONS),
    "/roles": ("name", "description", *OPTIONS),
    "/v1/policy": OPTIONS,
}  # fmt: skip


def known_keys(template: str) -> tuple[str, ...]:
    return next((keys for part, keys in KNOWN_KEYS.items() if part in template), OPTIONS)


RAW_BODIES = (
    b"NaN", b"Infinity", b"-Infinity", b'{"text": NaN}', b'{"base_version": Infinity}',
    b"1e999", b'{"name": 1e400}', b"-", b"", b" ", b"\xef\xbb\xbf{}", b"\x00", b"{",
    b'{"a":1,"a":2}', b'"\\ud800"', b'{"text": "\\udfff\\ud800"}', b"\xed\xa0\x80",
    b"[" * 5000, b'{"text": "' + b"\\" * 3 + b'"}', b"0" * 10_000, b"-0.0e-0",
)  # fmt: skip
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")

characters = st.characters(exclude_categories=())  # lone surrogates included
texts = st.text(max_size=40) | st.text(characters, max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**18, max_value=10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
    | st.sampled_from(
        ["", "张三", "13812345678", "2024-02-30", "1990-03-07", "../../etc", "%00", "\u202e"]
    )
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.text(characters, max_size=12), inner, max_size=4)
    ),
    max_leaves=25,
)


def field_objects(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, object]]:
    """Objects of the endpoint's own fields with values of every type and shape."""
    return st.dictionaries(st.sampled_from(keys), documents, min_size=1, max_size=6)


wide = st.integers(min_value=900, max_value=3000).map(lambda n: {f"k{i}": i for i in range(n)})


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    """Nesting from a little past the limit to far past the parser's own (1024)."""
    depth = draw(st.integers(min_value=20, max_value=5000))
    opening, closing = draw(st.sampled_from([("[", "]"), ('{"text":', "}"), ('{"a":[', "]}")]))
    return (opening * depth + "1" + closing * depth).encode()


@st.composite
def bodies(draw: st.DrawFn, keys: tuple[str, ...]) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["fields"] * 6 + ["json", "deep", "wide", "raw"]))
    content_type = draw(
        st.sampled_from(
            ["application/json"] * 12
            + ["application/json; charset=utf-8", "text/plain", "application/json; charset=utf-16"]
        )
    )
    if kind == "raw":
        return draw(st.sampled_from(RAW_BODIES)), content_type
    if kind == "deep":
        return draw(deep()), content_type
    if kind == "wide":
        document: object = draw(wide)
    elif kind == "json":
        document = draw(documents)
    else:
        document = draw(field_objects(keys))
    ascii_only = draw(st.booleans())
    text = json.dumps(document, ensure_ascii=ascii_only)
    # Unescaped lone surrogates go out as bytes that no valid UTF-8 holds.
    return text.encode("utf-8", "surrogatepass"), content_type


@pytest.fixture(scope="module", params=STORE_PARAMS[:2])
def fuzz_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """A store of this module's own (policy calls may change it), once per backend."""
    store = new_store(request, tmp_path_factory)
    app = WardgateApp(store.settings)
    with TestClient(app=app) as client:  # type: ignore[arg-type]
        yield Api(client, store, app)


def body_endpoints(api: Api, customer_id: str) -> list[tuple[str, str, str]]:
    """(method, path, template) of every /v1 route that takes a body."""
    found = []
    for route in api.app.litestar.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/v1"):
            continue
        for method in sorted(set(route.methods) & set(BODY_METHODS)):

            def value(match: re.Match[str]) -> str:
                name = match.group(1)
                return customer_id if name == "customer_id" else PARAMETERS[name]

            found.append((method, _PARAM.sub(value, route.path), route.path))
    return found


def test_given_generated_bodies_on_every_body_endpoint_then_no_5xx_and_one_entry_each(
    fuzz_api: Api,
) -> None:
    api = fuzz_api
    customer_id = api.customer_ids()[0]
    endpoints = body_endpoints(api, customer_id)
    assert len(endpoints) >= 15, endpoints
    prefix = f"fuzz-{uuid.uuid4().hex[:8]}-"
    sent: list[str] = []
    failures: list[str] = []

    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        case=st.sampled_from(endpoints).flatmap(
            lambda endpoint: st.tuples(st.just(endpoint), bodies(known_keys(endpoint[2])))
        ),
        on_behalf_of=st.one_of(st.none(), st.none(), st.none(), st.text(characters, max_size=9)),
    )
    def post(case: tuple[tuple[str, str, str], tuple[bytes, str]], on_behalf_of: Any) -> None:
        (method, path, template), (content, content_type) = case
        principal, purpose = next(
            (c for prefix_, c in CALLERS.items() if template.startswith(prefix_)), DEFAULT_CALLER
        )
        request_id = f"{prefix}{len(sent)}"
        headers = api.headers(principal, purpose) | {
            "Content-Type": content_type,
            "X-Request-Id": request_id,
        }
        if on_behalf_of is not None:
            headers["X-On-Behalf-Of"] = on_behalf_of.encode("utf-8", "surrogatepass")
        sent.append(request_id)
        response = api.client.request(method, path, content=content, headers=headers)
        if response.status_code >= 500:
            failures.append(f"{method} {path} {content[:80]!r}: {response.status_code}")
        assert response.status_code < 500, (method, path, content[:200], response.text)

    post()
    assert not failures, failures
    counted = Counter(
        row[0]
        for row in api.store.sql(
            "SELECT request_id FROM audit_events WHERE request_id LIKE :p", {"p": f"{prefix}%"}
        )
    )
    wrong = {rid: counted[rid] for rid in sent if counted[rid] != 1}
    assert not wrong, f"{len(wrong)} requests without exactly one audit entry: {wrong}"
