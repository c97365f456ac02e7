"""Table: purpose × consent state × field sensitivity × adult/minor, on every store.

Each case stores a consent history straight into the database (expired and
guardian-less grants cannot be made through the API, which refuses them), reads the
customer through the API, and compares status, reason and field labels with the table.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from tests.helpers.api import Api
from tests.helpers.customers import new_customer

NOW = dt.datetime.now(dt.UTC)
PAST = (NOW - dt.timedelta(days=400)).isoformat()
STATES = {
    # name: list of (kind, separate, guardian, expires_at) events, oldest first
    "none": [],
    "granted": [("grant", ["sensitive"], "guardian-1", None)],
    "expired": [("grant", ["sensitive"], "guardian-1", (NOW - dt.timedelta(days=1)).isoformat())],
    "withdrawn": [("grant", ["sensitive"], "guardian-1", None), ("withdraw", [], None, None)],
    "separate_missing": [("grant", [], "guardian-1", None)],
    "guardian_missing": [("grant", ["sensitive"], None, None)],
}
CALLERS = {"marketing": "marketing-app", "customer_service": "support-desk"}

M = "masked"
D = "withheld:denied"
NSC = "withheld:no_separate_consent"
GCR = "withheld:guardian_consent_required"
# (purpose, state, minor) -> (status, reason, phone label [general], id_number label [sensitive])
TABLE = {
    ("marketing", "none", False): (403, "no_consent", None, None),
    ("marketing", "none", True): (403, "no_consent", None, None),
    ("marketing", "granted", False): (200, None, M, D),
    ("marketing", "granted", True): (200, None, M, D),
    ("marketing", "expired", False): (403, "no_consent", None, None),
    ("marketing", "expired", True): (403, "no_consent", None, None),
    ("marketing", "withdrawn", False): (403, "no_consent", None, None),
    ("marketing", "withdrawn", True): (403, "no_consent", None, None),
    ("marketing", "separate_missing", False): (200, None, M, D),
    ("marketing", "separate_missing", True): (200, None, M, D),
    ("marketing", "guardian_missing", False): (200, None, M, D),
    ("marketing", "guardian_missing", True): (403, "guardian_consent_required", None, None),
    ("customer_service", "none", False): (200, None, M, NSC),
    ("customer_service", "none", True): (200, None, M, NSC),
    ("customer_service", "granted", False): (200, None, M, M),
    ("customer_service", "granted", True): (200, None, M, M),
    ("customer_service", "expired", False): (200, None, M, NSC),
    ("customer_service", "expired", True): (200, None, M, NSC),
    ("customer_service", "withdrawn", False): (200, None, M, NSC),
    ("customer_service", "withdrawn", True): (200, None, M, NSC),
    ("customer_service", "separate_missing", False): (200, None, M, NSC),
    ("customer_service", "separate_missing", True): (200, None, M, NSC),
    ("customer_service", "guardian_missing", False): (200, None, M, M),
    ("customer_service", "guardian_missing", True): (200, None, M, GCR),
}


def _store_history(api: Api, customer_id: str, purpose: str, state: str) -> None:
    at = NOW - dt.timedelta(days=30)
    for offset, (kind, separate, guardian, expires_at) in enumerate(STATES[state]):
        api.store.sql(
            "INSERT INTO consents (id, customer_id, purpose, kind, at, channel, notice_version, "
            "evidence_hash, expires_at, separate, guardian_ref, recorded_by, request_id) VALUES "
            "(:id, :c, :p, :k, :at, 'test', 'n1', NULL, :exp, :sep, :g, 'test', 'test')",
            {
                "id": f"cns_{uuid.uuid4().hex[:26]}",
                "c": customer_id,
                "p": purpose,
                "k": kind,
                "at": (at + dt.timedelta(minutes=offset)).isoformat(),
                "exp": expires_at,
                "sep": json.dumps(separate),
                "g": guardian,
            },
        )


@pytest.mark.parametrize(("purpose", "state", "minor"), sorted(TABLE))
def test_given_case_then_status_reason_and_fields_match_the_table(
    api: Api, purpose: str, state: str, minor: bool
) -> None:
    status, reason, phone, id_number = TABLE[(purpose, state, minor)]
    today = NOW.date()
    birth = dt.date(today.year - 9, 2, 2) if minor else dt.date(1985, 2, 2)
    customer_id = new_customer(api, birth)
    _store_history(api, customer_id, purpose, state)
    response = api.get(f"/v1/customers/{customer_id}", CALLERS[purpose], purpose)
    assert response.status_code == status, response.text
    body = response.json()
    if status != 200:
        assert body["reason"] == reason
        assert "data" not in body
        return
    fields = body["governance"]["fields"]
    assert fields["phone"] == phone
    assert fields["id_number"] == id_number
    assert ("id_number" in body["data"]) == (id_number == M)
    assert ("phone" in body["data"]) == (phone == M)


def test_given_the_table_then_every_combination_is_covered() -> None:
    assert set(TABLE) == {(p, s, m) for p in CALLERS for s in STATES for m in (False, True)}
