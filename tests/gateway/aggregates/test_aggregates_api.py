"""POST /v1/aggregates on SQLite and PostgreSQL: minimum cohort, rights, differencing,
differential privacy with its budget (concurrency across processes), audit entries."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.helpers.api import Api, api_on
from tests.helpers.policy import admin_patch, audit_entry, restored_policy
from tests.helpers.servers import server_env
from tests.helpers.store import BACKENDS, new_store

ANALYST, PURPOSE = "analytics-job", "analytics"


@pytest.fixture(scope="module", params=BACKENDS)
def agg_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    with api_on(new_store(request, tmp_path_factory)) as api:
        yield api


@pytest.fixture(autouse=True)
def fresh_history(agg_api: Api) -> None:
    """Each test starts without earlier answers (the differencing rule) or spent ε."""
    agg_api.store.sql("DELETE FROM aggregate_answers")
    agg_api.store.sql("DELETE FROM privacy_budget")


def ask(api: Api, body: dict[str, Any], principal: str = ANALYST, purpose: str = PURPOSE) -> Any:
    return api.post("/v1/aggregates", principal, purpose, json=body)


BY_TIER = {"entity": "customers", "measures": [{"op": "count"}], "group_by": ["tier"]}


def test_given_a_tier_breakdown_then_no_released_cell_counts_fewer_than_k(agg_api: Api) -> None:
    response = ask(agg_api, BY_TIER)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["governance"]["mechanism"] == "none"
    assert body["governance"]["min_cohort"] == 10
    for item in body["data"]["cells"] + body["data"]["totals"]:
        assert "suppressed" in item or item["count"] >= 10
    reasons = {item.get("suppressed") for item in body["data"]["cells"]}
    # 40 demo customers over four tiers: some tier is under 10 and hidden with a reason.
    assert "below_k" in reasons


def test_given_a_region_by_tier_table_then_suppressed_cells_cannot_be_recovered(
    agg_api: Api,
) -> None:
    body = {"entity": "customers", "measures": [{"op": "count"}], "group_by": ["region", "tier"]}
    data = ask(agg_api, body).json()["data"]
    positions = {(i["region"], i["tier"]): i for i in data["cells"] + data["totals"]}
    for (region, tier), item in positions.items():
        if item.get("suppressed") and "*" not in (region, tier):
            # Neither its row nor its column has it as the only hidden position.
            row = [v for (r, _), v in positions.items() if r == region and v.get("suppressed")]
            col = [v for (_, t), v in positions.items() if t == tier and v.get("suppressed")]
            assert len(row) >= 2
            assert len(col) >= 2


def test_given_a_differencing_pair_then_the_second_query_is_refused(agg_api: Api) -> None:
    """All customers, then all but one tier: if that tier holds 1..9 people the second
    answer would isolate them; the rule refuses it with differencing_risk."""
    first = ask(agg_api, {"entity": "customers", "measures": [{"op": "count"}]})
    assert first.status_code == 200
    total = first.json()["data"]["totals"][0]["count"]
    by_tier = agg_api.store.sql(
        "SELECT tier, count(*) FROM customers WHERE erased_at IS NULL GROUP BY tier"
    )
    consenting = set(agg_api.store.consented(PURPOSE))
    tiers = {row[0] for row in by_tier}
    # The count of consenting customers in each tier, as the gateway counts them.
    per_tier = {
        t: len(
            [
                c
                for c in consenting
                if agg_api.store.sql("SELECT tier FROM customers WHERE id = :i", {"i": c})[0][0]
                == t
            ]
        )
        for t in tiers
    }
    small = next(t for t, n in sorted(per_tier.items()) if 0 < n < 10)
    rest = sorted(tiers - {small})
    assert total - per_tier[small] >= 10
    second = ask(
        agg_api,
        {
            "entity": "customers",
            "measures": [{"op": "count"}],
            "filters": [{"dimension": "tier", "values": rest}],
        },
    )
    assert second.status_code == 403, second.text
    assert second.json()["reason"] == "differencing_risk"


def test_given_a_principal_without_the_aggregate_right_then_it_is_refused(agg_api: Api) -> None:
    response = ask(agg_api, BY_TIER, principal="marketing-app", purpose="marketing")
    assert response.status_code == 403
    assert response.json()["reason"] == "aggregate_not_allowed"


def test_given_a_raw_sql_or_unknown_dimension_then_422_names_the_field(agg_api: Api) -> None:
    response = ask(
        agg_api, {"entity": "customers", "measures": [{"op": "count"}], "group_by": ["birth_date"]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "group_by[0]"
    response = ask(agg_api, {"entity": "customers", "measures": [{"op": "sum", "field": "name"}]})
    assert response.json()["reason"] == "not_aggregatable"
    response = ask(agg_api, {"sql": "SELECT * FROM customers"})
    assert response.status_code == 422


def test_given_an_answer_then_its_audit_entry_names_the_shape_and_no_value(agg_api: Api) -> None:
    response = ask(agg_api, BY_TIER)
    entry = audit_entry(agg_api, response.json()["governance"]["audit_id"])
    assert entry["action"] == "aggregates.query"
    fields = entry["fields"]
    assert fields["aggregate:measures"] == "count"
    assert fields["aggregate:group_by"] == "tier"
    assert fields["aggregate:mechanism"] == "none"
    assert int(fields["aggregate:suppressed"]) >= 1
    assert entry["record_ids"] == []
    counts = {str(i["count"]) for i in response.json()["data"]["cells"] if "count" in i}
    assert not counts & set(fields.values()) - {
        fields["aggregate:cells"],
        fields["aggregate:suppressed"],
    }


DP = {"epsilon_per_query": 0.5, "epsilon_per_period": 1.0, "period_days": 30}


def _with_dp(api: Api) -> None:
    response = admin_patch(api, "/v1/policy/purposes/analytics", {"differential_privacy": DP})
    assert response.status_code == 200, response.text


def test_given_dp_on_then_the_budget_is_spent_and_then_refused_with_its_renewal(
    agg_api: Api,
) -> None:
    with restored_policy(agg_api):
        _with_dp(agg_api)
        first = ask(agg_api, BY_TIER)
        assert first.status_code == 200, first.text
        governance = first.json()["governance"]
        assert governance["mechanism"] == "laplace"
        assert governance["epsilon_spent"] == pytest.approx(0.5)
        assert governance["epsilon_left"] == pytest.approx(0.5)
        for item in first.json()["data"]["cells"]:
            assert "suppressed" in item or item["count"] >= 0
        assert ask(agg_api, BY_TIER).status_code == 200
        refused = ask(agg_api, BY_TIER)
        assert refused.status_code == 429
        problem = refused.json()
        assert problem["reason"] == "privacy_budget_exhausted"
        assert problem["renews_at"] == governance["budget_renews_at"]
        spent = agg_api.store.sql("SELECT spent_micro FROM privacy_budget")
        assert [row[0] for row in spent] == [1_000_000]


_DEBITS = """
import asyncio, json, sys
from gateway.aggregates.budget import debit
from gateway.db.engine import create_database
from gateway.settings import get_settings
from policies.purposes import DifferentialPrivacy

async def main():
    db = create_database(get_settings())
    settings = DifferentialPrivacy(0.1, 1.0, 30)
    granted = 0
    for _ in range(int(sys.argv[1])):
        result = await debit(
            db.writer, principal="p", purpose="analytics", settings=settings, epsilon=0.1
        )
        granted += result.granted
    await db.dispose()
    print(json.dumps(granted))

asyncio.run(main())
"""


def test_given_two_processes_debiting_at_once_then_the_budget_is_spent_exactly_once(
    agg_api: Api,
) -> None:
    """Two processes try 8 debits of 0.1 each against a budget of 1.0: exactly 10 are
    granted between them and the ledger holds exactly 1.0."""
    env = server_env(agg_api.store.settings)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _DEBITS, "8"], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    granted = [json.loads(w.communicate(timeout=180)[0]) for w in workers]
    assert sum(granted) == 10
    rows = agg_api.store.sql("SELECT spent_micro FROM privacy_budget WHERE principal_id = 'p'")
    assert [row[0] for row in rows] == [1_000_000]


def test_given_dp_on_then_a_fixed_query_is_unbiased_and_spends_its_epsilon_each_time(
    agg_api: Api,
) -> None:
    """40 runs of one count at ε = 1 (discrete Laplace, scale 1, sd ≈ 1.41): the mean
    of the noisy answers is within 5 standard errors of the exact count (≈ ±1.1), and
    the ledger holds exactly 40 × 1.0."""
    total_query = {"entity": "customers", "measures": [{"op": "count"}]}
    exact = ask(agg_api, total_query).json()["data"]["totals"][0]["count"]
    runs = 40
    with restored_policy(agg_api):
        settings = {"epsilon_per_query": 1.0, "epsilon_per_period": 100.0, "period_days": 1}
        response = admin_patch(
            agg_api, "/v1/policy/purposes/analytics", {"differential_privacy": settings}
        )
        assert response.status_code == 200, response.text
        answers = []
        for _ in range(runs):
            body = ask(agg_api, total_query).json()
            assert body["governance"]["epsilon_spent"] == pytest.approx(1.0)
            answers.append(body["data"]["totals"][0]["count"])
    mean = sum(answers) / runs
    assert abs(mean - exact) < 5 * 2**0.5 / runs**0.5
    assert len(set(answers)) > 1  # noise, not the exact figure every time
    spent = agg_api.store.sql("SELECT spent_micro FROM privacy_budget")
    assert [row[0] for row in spent] == [runs * 1_000_000]


def test_given_aggregates_then_no_stored_value_or_figure_reaches_a_log(agg_api: Api) -> None:
    """Birth dates are decrypted for the age band; neither they nor any region, tier or
    released figure appears in a log line of the request (only its shape and outcome)."""
    birth_dates = {str(c["birth_date"]) for c in agg_api.store.customers() if c.get("birth_date")}
    assert birth_dates
    body = {
        "entity": "orders",
        "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],
        "group_by": ["age_band", "region"],
    }
    with capture_logs() as structured:
        response = ask(agg_api, body)
        refused = ask(agg_api, {"entity": "customers", "measures": [{"op": "sum", "field": "x"}]})
    assert response.status_code == 200
    assert refused.status_code == 422
    text = json.dumps(structured, ensure_ascii=False, default=str)
    assert not any(value in text for value in birth_dates)
    for item in response.json()["data"]["cells"]:
        assert str(item["region"]) not in text
        if "sum_amount" in item:
            assert str(item["sum_amount"]) not in text
