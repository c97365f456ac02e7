"""GET /metrics after a demo session: the figures are there, and no label carries a
value from the store, a customer id or a key — not even values callers put in paths,
queries and headers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import WardgateApp
from gateway.db.init_store import init_store
from gateway.settings import Settings
from tests.helpers.api import Api
from tests.helpers.customers import MARKETING, SUPPORT, valid_body
from tests.helpers.servers import one_server
from tests.helpers.store import Store

ANALYTICS = ("analytics-job", "analytics")
COMPLIANCE = ("compliance-officer", "compliance_audit")
ADMIN = ("security-admin", "policy_admin")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("metrics") / "data")
    asyncio.run(init_store(settings, demo=True, customers=20))
    store = Store(backend="sqlite", settings=settings)
    app = WardgateApp(settings)
    with TestClient(app=app) as client:  # type: ignore[arg-type]
        yield Api(client, store, app)


def _demo_session(api: Api) -> dict[str, Any]:
    """Requests by every demo principal, good and bad, carrying store values in paths,
    queries and headers where a careless metric would pick them up."""
    customers = api.store.customers()
    one = customers[0]
    cid = one["id"]
    sent: dict[str, Any] = {"statuses": []}

    def note(response: Any) -> None:
        sent["statuses"].append(response.status_code)

    note(api.get(f"/v1/customers/{cid}", *SUPPORT))
    note(api.get("/v1/customers?limit=5", *SUPPORT))
    for field in ("phone", "email", "id_number"):
        if one.get(field):
            note(api.get("/v1/customers", *SUPPORT, params={field: one[field]}))
    note(api.get(f"/v1/customers/{cid}/interactions", *SUPPORT))
    note(api.get(f"/v1/customers/{cid}/orders", *SUPPORT))
    note(api.get(f"/v1/customers/{cid}/consents", *SUPPORT))
    created = api.post("/v1/customers", *SUPPORT, json=valid_body())
    note(created)
    new_id = created.json()["data"]["id"]
    note(api.patch(f"/v1/customers/{new_id}", *SUPPORT, json={"tier": "silver"}))
    note(api.post("/v1/scan", *SUPPORT, json={"text": f"call {one['phone']} or {one['email']}"}))
    # Values where only a route template may appear: a phone as an id, a bad purpose.
    note(api.get(f"/v1/customers/{one['phone']}", *SUPPORT))
    note(api.get(f"/v1/no-such-thing/{one['email']}", *SUPPORT))
    note(api.get(f"/v1/customers/{cid}", "support-desk", str(one["phone"])))
    for customer in customers[:8]:
        note(api.get(f"/v1/customers/{customer['id']}", *MARKETING))
    note(api.get("/v1/customers?limit=10", *MARKETING))
    note(api.get("/v1/customers?limit=10", *ANALYTICS))
    note(api.get(f"/v1/customers/{cid}", *ANALYTICS))
    note(api.get("/v1/audit/events?limit=5", *COMPLIANCE))
    note(api.get("/v1/audit/verify", *COMPLIANCE))
    note(api.get("/v1/audit/checkpoints/latest?refresh=1", *COMPLIANCE))
    note(api.get(f"/v1/customers/{cid}/access-report", *COMPLIANCE))
    note(api.get(f"/v1/customers/{cid}", *COMPLIANCE))
    note(api.get("/v1/policy/roles", *ADMIN))
    note(api.get("/v1/policy/principals", *ADMIN))
    note(
        api.post(
            "/v1/policy/explain",
            *ADMIN,
            json={"principal": "support-desk", "purpose": "customer_service"},
        )
    )
    note(api.get(f"/v1/customers/{cid}", *ADMIN))
    note(api.get(f"/v1/customers/{cid}", "support-desk", None))
    note(api.client.get("/healthz"))
    note(api.client.get("/readyz"))
    sent["created"] = created.json()["data"]
    return sent


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def _secrets(api: Api) -> set[str]:
    """Every value a label must never carry: stored values, customer ids, API keys."""
    secrets: set[str] = set(api.store.keys.values())
    secrets |= {row[0] for row in api.store.sql("SELECT id FROM customers")}
    for row in api.store.customers():
        for name, value in row.items():
            if name in ("tier", "region", "erased_at", "created_at", "updated_at"):
                continue  # shared categories and timestamps, not identifying values
            if isinstance(value, str) and len(value) >= 4:
                secrets.add(value)
    for (key_id,) in api.store.sql("SELECT key_id FROM api_keys"):
        secrets.add(key_id)
    return secrets


def test_given_demo_session_then_metrics_have_the_figures_and_no_values(api: Api) -> None:
    session = _demo_session(api)
    assert 500 not in session["statuses"]
    response = api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    leaked = sorted(secret for secret in _secrets(api) if secret in text)
    assert leaked == [], f"{len(leaked)} values in /metrics"

    samples = _samples(text)
    requests = samples["wardgate_http_requests_total"]
    routes = {labels["route"] for labels, _ in requests}
    assert "/v1/customers/{customer_id}" in routes
    assert "<unmatched>" in routes
    assert all(r.startswith("/") or r == "<unmatched>" for r in routes)
    assert not any("cus_" in r for r in routes)
    purposes = {labels["purpose"] for labels, _ in requests}
    assert purposes <= {
        "customer_service",
        "marketing",
        "analytics",
        "compliance_audit",
        "policy_admin",
        "none",
    }
    assert {"customer_service", "marketing", "analytics"} <= purposes
    outcomes = {labels["outcome"] for labels, _ in requests}
    assert {"allowed", "denied", "invalid"} <= outcomes
    read_ok = [
        v
        for labels, v in requests
        if labels["route"] == "/v1/customers/{customer_id}"
        and labels["method"] == "GET"
        and labels["status"] == "200"
        and labels["purpose"] == "customer_service"
    ]
    assert read_ok
    assert read_ok[0] >= 1
    assert any(
        labels["route"] == "/v1/customers/{customer_id}" and labels.get("le") == "+Inf"
        for labels, _ in samples["wardgate_http_request_duration_seconds_bucket"]
    )
    effects = {labels["effect"]: v for labels, v in samples["wardgate_policy_decisions_total"]}
    assert effects.get("masked", 0) > 0
    assert effects.get("withheld", 0) > 0
    assert effects.get("written", 0) > 0
    refusals = {labels["reason"] for labels, _ in samples["wardgate_consent_refusals_total"]}
    assert refusals
    assert refusals <= {
        "no_consent",
        "no_separate_consent",
        "guardian_consent_required",
        "outside_purpose",
    }
    assert samples["wardgate_audit_batch_size_count"][0][1] > 0
    assert samples["wardgate_audit_append_seconds_count"][0][1] > 0
    assert samples["wardgate_audit_last_verification_ok"][0][1] == 1
    assert samples["wardgate_audit_checkpoint_age_seconds"][0][1] >= 0
    assert samples["wardgate_audit_entries"][0][1] >= len(session["statuses"]) - 3
    assert samples["wardgate_ready"][0][1] == 1
    assert samples["wardgate_store_up"][0][1] == 1
    assert samples["wardgate_audit_up"][0][1] == 1


def test_given_metrics_then_not_audited_and_not_v1(api: Api) -> None:
    before = api.store.count("audit_events")
    assert api.client.get("/metrics").status_code == 200
    assert api.store.count("audit_events") == before


def test_given_metrics_disabled_then_404(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", metrics_enabled=False)
    asyncio.run(init_store(settings, demo=False))
    with TestClient(app=WardgateApp(settings)) as client:  # type: ignore[arg-type]
        assert client.get("/metrics").status_code == 404
        assert client.get("/healthz").status_code == 200


def test_given_multiprocess_dir_then_served_metrics_come_from_the_shared_files(
    api: Api, tmp_path: Path
) -> None:
    """With PROMETHEUS_MULTIPROC_DIR (several workers), a scrape sums every worker's
    files; here one `wardgate serve` writes them and answers from them."""
    shared = tmp_path / "prom"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with one_server(api.store.settings, tmp_path / "server.log", env) as server:
        headers = {
            "Authorization": f"Bearer {api.store.keys['support-desk']}",
            "X-Purpose": "customer_service",
        }
        for _ in range(3):
            assert httpx.get(f"{server.base}/v1/customers?limit=2", headers=headers).is_success
        text = httpx.get(f"{server.base}/metrics").text
    assert any(shared.iterdir()), "no multiprocess files were written"
    requests = _samples(text)["wardgate_http_requests_total"]
    listed = [
        v
        for labels, v in requests
        if labels["route"] == "/v1/customers" and labels["status"] == "200"
    ]
    assert listed == [3.0]
    assert _samples(text)["wardgate_ready"][0][1] == 1


def _counted(api: Api) -> tuple[dict[str, float], float]:
    """Field decisions by effect, and governed single reads answered, so far."""
    samples = _samples(api.client.get("/metrics").text)
    effects = {labels["effect"]: v for labels, v in samples["wardgate_policy_decisions_total"]}
    reads = sum(
        v
        for labels, v in samples["wardgate_http_requests_total"]
        if labels["route"] == "/v1/customers/{customer_id}"
        and labels["status"] == "200"
        and labels["purpose"] == "customer_service"
    )
    return effects, reads


def test_given_governed_reads_then_one_decision_per_field_and_one_request_each(api: Api) -> None:
    """The instruments count every field of every request once (children are looked up
    once per label set and the effects of a request are added up before the increment)."""
    effects_before, reads_before = _counted(api)
    expected: dict[str, int] = {}
    for customer in api.store.customers()[:3]:
        response = api.get(f"/v1/customers/{customer['id']}", *SUPPORT)
        assert response.status_code == 200
        for label in response.json()["governance"]["fields"].values():
            effect = label.partition(":")[0]
            expected[effect] = expected.get(effect, 0) + 1
    effects_after, reads_after = _counted(api)
    assert reads_after - reads_before == 3
    added = {
        effect: effects_after.get(effect, 0) - effects_before.get(effect, 0)
        for effect in effects_after
    }
    assert {effect: n for effect, n in added.items() if n} == expected
    assert sum(expected.values()) > 3  # several fields, several effects per read
