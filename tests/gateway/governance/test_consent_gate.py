"""The consent gate's decisions, remembered by history text: never past a change of it."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import orjson

from gateway.governance.call import GovernedCall
from gateway.governance.consent_gate import decide_histories
from policies.consent import WithholdReason
from policies.purposes import load_purposes_file
from tests.helpers.api import Api
from tests.helpers.customers import SUPPORT, grant, valid_body

PURPOSES = Path(__file__).resolve().parents[3] / "policies" / "purposes.yaml"
ID_NUMBER = ("id_number", "identity.national_id", True)


def _listed(api: Api, email: str, customer_id: str) -> dict[str, object]:
    page = api.get("/v1/customers", *SUPPORT, params={"email": email, "limit": "500"})
    assert page.status_code == 200, page.text
    body = page.json()
    assert customer_id in [item["id"] for item in body["data"]]
    withheld = body["governance"].get("withheld_fields", {})
    return cast("dict[str, object]", withheld.get(customer_id, {}))


def test_given_a_page_decided_from_a_remembered_grant_then_a_withdrawal_withholds_at_once(
    api: Api,
) -> None:
    email = f"gate-{uuid.uuid4().hex[:12]}@example.com"
    created = api.post("/v1/customers", *SUPPORT, json=valid_body(email=email))
    assert created.status_code == 201, created.text
    customer_id = created.json()["data"]["id"]
    path = f"/v1/customers/{customer_id}"
    before = _listed(api, email, customer_id)
    assert before
    assert set(before.values()) == {"no_separate_consent"}

    granted = grant(api, customer_id, SUPPORT, purpose="customer_service", separate=["sensitive"])
    assert granted.status_code == 201, granted.text
    assert _listed(api, email, customer_id) == {}
    assert _listed(api, email, customer_id) == {}  # the second read: a remembered decision

    withdrawn = api.post(f"{path}/consents/customer_service/withdraw", *SUPPORT)
    assert withdrawn.status_code == 200, withdrawn.text
    assert _listed(api, email, customer_id) == before


def test_given_a_remembered_decision_on_an_expiring_consent_then_it_ends_at_the_expiry() -> None:
    purpose = load_purposes_file(PURPOSES)["customer_service"]
    call = cast("GovernedCall", SimpleNamespace(purpose=purpose))
    granted_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    expiry = granted_at + dt.timedelta(days=30)
    # The shape `consent_history_column` selects: kind, at, id, separate, guardian,
    # expires_at, channel, notice version.
    history = orjson.dumps(
        [
            [
                "grant",
                granted_at.isoformat(),
                f"cns_{uuid.uuid4().hex}",
                ["sensitive"],
                None,
                expiry.isoformat(),
                "desk",
                "notice-1",
            ]
        ]
    ).decode()
    owners = {"cus_1": (False, history)}

    def reasons(now: dt.datetime) -> dict[str, str]:
        gate = decide_histories(call, owners, (ID_NUMBER,), now=now)
        return dict(gate.record("cus_1").field_reasons)

    before = expiry - dt.timedelta(seconds=1)
    assert reasons(before) == {}
    assert reasons(before) == {}  # remembered
    assert reasons(expiry) == {"id_number": WithholdReason.NO_SEPARATE_CONSENT}
    assert reasons(expiry + dt.timedelta(days=1)) == {
        "id_number": WithholdReason.NO_SEPARATE_CONSENT
    }


def test_given_the_same_history_for_a_minor_then_decided_apart_from_an_adult() -> None:
    purpose = load_purposes_file(PURPOSES)["customer_service"]
    call = cast("GovernedCall", SimpleNamespace(purpose=purpose))
    history = orjson.dumps(
        [
            [
                "grant",
                "2026-01-01T00:00:00+00:00",
                f"cns_{uuid.uuid4().hex}",
                ["sensitive"],
                None,
                None,
                "desk",
                "notice-1",
            ]
        ]
    ).decode()
    adult = decide_histories(call, {"a": (False, history)}, (ID_NUMBER,))
    minor = decide_histories(call, {"m": (True, history)}, (ID_NUMBER,))
    assert dict(adult.record("a").field_reasons) == {}
    assert dict(minor.record("m").field_reasons) == {
        "id_number": WithholdReason.GUARDIAN_CONSENT_REQUIRED
    }
