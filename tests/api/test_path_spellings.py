"""The audit guard decides by route, not by spelling: every /v1 request, however its path
is written, leaves exactly one audit entry, and none gets a 5xx.

Table-driven over EVERY /v1 route of the app and every method it accepts, on a real
uvicorn server on loopback, so the path reaches the app as the server parsed it (httpx
would normalize `/./` and `/../` away). Spellings the router takes to the same handler
(`//v1/…`, `/v1//…`, a trailing slash, a percent-encoded letter) are served as the
canonical path is; spellings a proxy could read differently (dot segments, encoded
separators, backslashes) are refused with 404 `non_canonical_path` — audited too.
Each request carries its own X-Request-Id, and the entries are counted by it.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from litestar.routes import HTTPRoute

from gateway.app import WardgateApp
from tests.helpers.loopback import RawClient, RawResponse
from tests.helpers.store import Store

# Path parameters of /v1 routes and a value each; a new parameter name fails the test
# until it is given one here.
PARAMETERS: dict[str, str] = {
    "seq": "1",
    "version": "1",
    "first": "1",
    "second": "1",
    "name": "marketing",
    "pid": "marketing-app",
    "rule_id": "r0",
    "key_id": "k0",
    "purpose_id": "marketing",
    "consent_purpose": "marketing",
    "request_id": "exp_0",
    "dsr_id": "dsr_0",
}
CALLERS = {
    "/v1/audit": ("compliance-officer", "compliance_audit"),
    "/v1/policy": ("security-admin", "policy_admin"),
    "/v1/customers/{customer_id}/access-report": ("compliance-officer", "compliance_audit"),
    "/v1/dsr": ("privacy-desk", "data_subject_request"),
    "/v1/retention": ("privacy-desk", "data_subject_request"),
}
DEFAULT_CALLER = ("support-desk", "customer_service")

Spelling = Callable[[str], str]
SERVED: dict[str, Spelling] = {
    "canonical": lambda p: p,
    "double_leading_slash": lambda p: "/" + p,
    "triple_leading_slash": lambda p: "//" + p,
    "doubled_separators": lambda p: p.replace("/", "//"),
    "trailing_slash": lambda p: p + "/",
    "encoded_letter": lambda p: "/%761" + p[3:],
}
REFUSED: dict[str, Spelling] = {
    "dot_segment": lambda p: "/v1/." + p[3:],
    "dot_dot_segment": lambda p: "/v1/../v1" + p[3:],
    "dot_dot_from_elsewhere": lambda p: "/ops/.." + p,
    "encoded_dot_dot": lambda p: "/v1/%2e%2e/v1" + p[3:],
    "encoded_slash": lambda p: "/v1%2F" + p[4:],
    "encoded_leading_slash": lambda p: "/%2F" + p[1:],
    "encoded_backslash": lambda p: "/v1%5C" + p[4:],
    "backslash": lambda p: "/v1\\" + p[4:],
    "encoded_nul": lambda p: p + "%00",
}
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def v1_routes(store: Store) -> list[tuple[str, str]]:
    """(method, path template) of every /v1 route, OPTIONS included."""
    app = WardgateApp(store.settings)  # never started: only its routing table is read
    found = [
        (method, route.path)
        for route in app.litestar.routes
        if isinstance(route, HTTPRoute) and route.path.startswith("/v1")
        for method in sorted(route.methods)
    ]
    assert len(found) > 40, "the route table looks incomplete"
    return found


def concrete(template: str, customer_id: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "customer_id":
            return customer_id
        assert name in PARAMETERS, f"give path parameter {name!r} a value in PARAMETERS"
        return PARAMETERS[name]

    return _PARAM.sub(value, template)


def headers_for(
    method: str, template: str, keys: dict[str, str], request_id: str
) -> list[tuple[str, str]]:
    headers = [("X-Request-Id", request_id)]
    if method != "GET":
        # Unauthenticated: reaching the handler (401) is the point, changing data is not.
        return headers
    principal, purpose = next(
        (caller for prefix, caller in CALLERS.items() if template.startswith(prefix)),
        DEFAULT_CALLER,
    )
    return [*headers, ("Authorization", f"Bearer {keys[principal]}"), ("X-Purpose", purpose)]


def entries_per_request(store: Store, prefix: str) -> Counter[str]:
    rows = store.sql(
        "SELECT request_id FROM audit_events WHERE request_id LIKE :prefix",
        {"prefix": f"{prefix}%"},
    )
    return Counter(row[0] for row in rows)


def test_given_every_v1_route_spelled_every_way_then_one_entry_each_and_no_5xx(
    store: Store, served: tuple[str, int]
) -> None:
    prefix = f"spell-{uuid.uuid4().hex[:8]}-"
    customer_id = store.sql("SELECT id FROM customers ORDER BY id LIMIT 1")[0][0]
    keys = store.keys
    client = RawClient(served)
    sent: dict[str, tuple[str, str, str]] = {}
    problems: list[str] = []
    try:
        for n, (method, template) in enumerate(v1_routes(store)):
            path = concrete(template, customer_id)
            canonical_status = 0
            for kind, spell in {**SERVED, **REFUSED}.items():
                request_id = f"{prefix}{n}-{kind}"
                spelled = spell(path)
                sent[request_id] = (method, spelled, kind)
                headers = headers_for(method, template, keys, request_id)
                response = client.request(method, spelled, headers)
                where = f"{method} {spelled} ({kind})"
                if response.status >= 500:
                    problems.append(f"{where}: {response.status}")
                elif kind == "canonical":
                    canonical_status = response.status
                elif kind in SERVED and response.status != canonical_status:
                    problems.append(f"{where}: {response.status}, canonical {canonical_status}")
                elif kind in REFUSED and not refused(response):
                    problems.append(f"{where}: {response.status}, not refused")
    finally:
        client.close()
    counted = entries_per_request(store, prefix)
    for request_id, (method, spelled, kind) in sent.items():
        if counted[request_id] != 1:
            problems.append(f"{method} {spelled} ({kind}): {counted[request_id]} audit entries")
    assert not problems, "\n".join(problems)
    assert len(sent) > 600


def refused(response: RawResponse) -> bool:
    return response.status == 404 and response.json()["reason"] == "non_canonical_path"


@pytest.mark.parametrize(
    ("path", "entries"),
    [
        ("/v1", 1),
        ("/v1/", 1),
        ("/V1/customers", 1),
        ("/v1/nothing/here", 1),
        ("/healthz", 0),
        ("//healthz", 0),
        ("/healthz/./", 0),
        ("/no/such/page", 0),
    ],
)
def test_given_a_path_that_names_v1_then_audited_even_when_routed_nowhere(
    store: Store, served: tuple[str, int], path: str, entries: int
) -> None:
    request_id = f"names-{uuid.uuid4().hex[:12]}"
    client = RawClient(served)
    try:
        response = client.request("GET", path, [("X-Request-Id", request_id)])
    finally:
        client.close()
    assert response.status < 500
    assert entries_per_request(store, request_id)[request_id] == entries


@pytest.mark.parametrize("header", ["Authorization", "X-Purpose", "X-On-Behalf-Of"])
def test_given_a_header_twice_then_400_ambiguous_header_and_one_entry(
    store: Store, served: tuple[str, int], header: str
) -> None:
    """Sent as two header lines (httpx would join them into one)."""
    customer_id = store.sql("SELECT id FROM customers ORDER BY id LIMIT 1")[0][0]
    key = f"Bearer {store.keys['support-desk']}"
    values = {
        "Authorization": [key, key],
        "X-Purpose": ["customer_service", "marketing"],
        "X-On-Behalf-Of": ["agent-7", "agent-8"],
    }
    headers = [("Authorization", key), ("X-Purpose", "customer_service")]
    headers = [(name, value) for name, value in headers if name != header]
    headers += [(header, value) for value in values[header]]
    request_id = f"dup-{uuid.uuid4().hex[:12]}"
    client = RawClient(served)
    try:
        response = client.request(
            "GET", f"/v1/customers/{customer_id}", [*headers, ("X-Request-Id", request_id)]
        )
    finally:
        client.close()

    assert response.status == 400, response.body
    problem = response.json()
    assert problem["reason"] == "ambiguous_header"
    assert problem["errors"] == [{"field": header, "reason": "ambiguous_header"}]
    assert entries_per_request(store, request_id)[request_id] == 1
