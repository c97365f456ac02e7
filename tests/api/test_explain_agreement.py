"""Explain agrees with real reads: per customer, the outcome of every field and record.

For each demo caller and each stored customer, the explanation the compliance officer
gets from `POST /v1/policy/explain` (built from the store's consent facts) must predict
the governed read exactly: 403 with the record's reason, or 200 with a governance block
whose field labels are the explained outcomes — and the same for the customer's orders.
The explanation never holds a value.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gateway.consents.facts import customer_consent_facts
from gateway.db.engine import create_database
from gateway.db.opening import open_protector
from gateway.http.errors import NotFound
from tests.helpers.api import Api
from tests.helpers.store import Store

CALLERS = {
    "support-desk": "customer_service",
    "marketing-app": "marketing",
    "analytics-job": "analytics",
}
PERSONAL = ("name", "id_number", "phone", "email", "address", "bank_card", "birth_date", "notes")


def explained_for(api: Api, principal: str, purpose: str, customer_id: str) -> dict[str, Any]:
    """The compliance officer's explanation of `principal`'s read of one customer."""
    response = api.post(
        "/v1/policy/explain",
        "compliance-officer",
        "compliance_audit",
        json={"principal": principal, "purpose": purpose, "customer_id": customer_id},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def outcomes(entity: dict[str, Any]) -> dict[str, str]:
    return {name: field["outcome"] for name, field in entity["fields"].items()}


def withheld_by_consent(entity: dict[str, Any]) -> dict[str, str]:
    return {
        name: outcome.removeprefix("withheld:")
        for name, outcome in outcomes(entity).items()
        if outcome.startswith("withheld:") and outcome != "withheld:denied"
    }


@pytest.mark.parametrize("principal", sorted(CALLERS))
def test_given_each_customer_then_explain_predicts_the_read(api: Api, principal: str) -> None:
    purpose = CALLERS[principal]
    ids = api.customer_ids()[:40]
    version = api.state.snapshot.version
    statuses: set[int] = set()
    orders_seen = 0
    for customer_id in ids:
        explanation = explained_for(api, principal, purpose, customer_id)
        assert explanation["policy_version"] == version
        customers = explanation["entities"]["customers"]
        read = api.get(f"/v1/customers/{customer_id}", principal, purpose)
        statuses.add(read.status_code)
        if customers["record_outcome"] is None:
            assert read.status_code == 200, read.text
            governance = read.json()["governance"]
            assert governance["policy_version"] == explanation["policy_version"]
            assert governance["fields"] == outcomes(customers)
        else:
            assert read.status_code == 403, (customer_id, customers["record_outcome"])
            assert f"withheld:{read.json()['reason']}" == customers["record_outcome"]

        orders = explanation["entities"]["orders"]
        listed = api.get(f"/v1/customers/{customer_id}/orders", principal, purpose)
        if orders["record_outcome"] is not None:
            # No orders: nothing to withhold, and the read answers an empty page.
            if listed.status_code == 200:
                assert listed.json()["data"] == []
                continue
            assert listed.status_code == 403
            assert f"withheld:{listed.json()['reason']}" == orders["record_outcome"]
            continue
        assert listed.status_code == 200, listed.text
        body = listed.json()
        expected = withheld_by_consent(orders)
        # A list's governance block gives the plan's labels; consent reasons go per record.
        for name, label in body["governance"]["fields"].items():
            if name not in expected:
                assert label == orders["fields"][name]["outcome"]
        orders_seen += len(body["data"])
        for record in body["data"]:
            got = body["governance"].get("withheld_fields", {}).get(record["id"], {})
            assert got == expected

        text = json.dumps(explanation, ensure_ascii=False)
        plain = api.store.customers("id = :id", {"id": customer_id})[0]
        for name in PERSONAL:
            value = plain.get(name)
            if isinstance(value, str) and len(value) > 3:
                assert value not in text, f"{name} leaked into the explanation"
    assert orders_seen > 0
    if purpose != "customer_service":  # consent-based: both outcomes occur in the demo data
        assert statuses == {200, 403}


def test_given_unknown_customer_then_facts_are_not_found(store: Store) -> None:
    async def run() -> None:
        db = create_database(store.settings)
        try:
            protector = await open_protector(store.settings, db)
            await customer_consent_facts(db, protector, "cus_00000000000000000000000000")
        finally:
            await db.dispose()

    with pytest.raises(NotFound):
        asyncio.run(run())
