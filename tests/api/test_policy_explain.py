"""POST /v1/policy/explain: per field the effect, the deciding rule, consent and the
reason — never a value; and a rollback restores exactly the explained decisions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.api import Api
from tests.helpers.policy import admin_post, last_audit, restored_policy

PERSONAL = ("name", "id_number", "phone", "email", "address", "bank_card", "birth_date")


def explain(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = admin_post(api, "/v1/policy/explain", body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def without_version(explanation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in explanation.items() if k != "policy_version"}


def test_given_a_consenting_customer_then_each_field_names_effect_rule_and_consent(
    api: Api,
) -> None:
    customer = api.store.consented("marketing")[0]

    result = explain(
        api, {"principal": "marketing-app", "purpose": "marketing", "customer_id": customer}
    )

    assert result["purpose_allowed"] is True
    assert result["consent"]["status"] == "granted"
    fields = result["entities"]["customers"]["fields"]
    phone = fields["phone"]
    assert phone["effect"].startswith("mask")
    assert phone["outcome"] == "masked"
    assert phone["rule"] == {
        "role": "marketing",
        "purpose": "marketing",
        "target": "contact.phone",
        "action": "read:mask",
        "effect": "allow",
    }
    assert fields["id_number"]["outcome"] == "withheld:denied"
    assert fields["id_number"]["rule"]["effect"] == "deny"
    assert "orders" in result["entities"]
    text = json.dumps(result, ensure_ascii=False)
    plain = api.store.customers("id = :id", {"id": customer})[0]
    for name in PERSONAL:
        value = plain.get(name)
        if isinstance(value, str) and len(value) > 3:
            assert value not in text, name
    entry = last_audit(api, "policy.explain")
    assert entry["record_ids"] == [customer]


def test_given_a_customer_without_consent_then_fields_are_withheld_no_consent(api: Api) -> None:
    consented = set(api.store.consented("marketing"))
    customer = next(c for c in api.customer_ids() if c not in consented)

    result = explain(api, {"roles": ["marketing"], "purpose": "marketing", "customer_id": customer})

    customers = result["entities"]["customers"]
    assert customers["record_outcome"] == "withheld:no_consent"
    assert customers["fields"]["phone"]["outcome"] == "withheld:no_consent"
    assert result["consent"]["status"] in ("none", "withdrawn", "expired")


def test_given_a_principal_and_a_purpose_it_may_not_use_then_the_refusal_is_named(
    api: Api,
) -> None:
    result = explain(api, {"principal": "marketing-app", "purpose": "customer_service"})

    assert (result["purpose_allowed"], result["refused"]) == (False, "purpose_not_allowed")


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (
            {"principal": "marketing-app", "roles": ["marketing"], "purpose": "marketing"},
            422,
            "principal_or_roles",
        ),
        ({"roles": ["marketing"]}, 422, "required"),
        ({"roles": ["marketing"], "purpose": "fishing"}, 422, "unknown_purpose"),
        ({"principal": "nobody", "purpose": "marketing"}, 404, "not_found"),
        (
            {
                "roles": ["marketing"],
                "purpose": "marketing",
                "customer_id": "cus_00000000000000000000000000",
            },
            404,
            "not_found",
        ),
    ],
)
def test_given_a_bad_question_then_a_problem_names_it(
    api: Api, body: dict[str, Any], status: int, reason: str
) -> None:
    response = admin_post(api, "/v1/policy/explain", body)

    assert response.status_code == status, response.text
    assert response.json()["reason"] == reason


def test_given_compliance_officer_then_explain_is_refused(api: Api) -> None:
    response = api.post(
        "/v1/policy/explain",
        "compliance-officer",
        "compliance_audit",
        json={"roles": ["marketing"], "purpose": "marketing"},
    )

    assert (response.status_code, response.json()["reason"]) == (403, "policy_admin_not_allowed")


def test_given_change_and_rollback_then_explain_shows_the_change_and_then_the_original(
    own_api: Api,
) -> None:
    customer = own_api.store.consented("marketing")[0]
    question = {"principal": "marketing-app", "purpose": "marketing", "customer_id": customer}
    with restored_policy(own_api) as start:
        before = explain(own_api, question)
        changed = admin_post(
            own_api,
            "/v1/policy/rules",
            {
                "role": "marketing",
                "purpose": "marketing",
                "target": "contact.phone",
                "action": "*",
                "effect": "deny",
            },
        )
        assert changed.status_code == 201, changed.text

        during = explain(own_api, question)
        phone = during["entities"]["customers"]["fields"]["phone"]
        assert (phone["effect"], phone["outcome"]) == ("deny", "withheld:denied")
        assert phone["rule"]["action"] == "*"
        rolled = admin_post(own_api, f"/v1/policy/rollback/{start}")
        assert rolled.status_code == 200, rolled.text
        after = explain(own_api, question)

        assert after["policy_version"] == start + 2
        assert without_version(after) == without_version(before)
