"""POST /v1/policy/explain: per field the effect, the deciding rule, consent and the
reason — never a value; and a rollback restores exactly the explained decisions.

Separation of duties: the security admin explains policy without customer facts (per
field, the consent conditions that change the outcome); explaining one customer's
decision (consent state, minor or not) is the compliance officer's, audited with the
customer as subject."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.api import Api
from tests.helpers.policy import admin_post, last_audit, restored_policy

PERSONAL = ("name", "id_number", "phone", "email", "address", "bank_card", "birth_date")
COMPLIANCE = ("compliance-officer", "compliance_audit")


def explain(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """The security admin's explanation (policy only)."""
    response = admin_post(api, "/v1/policy/explain", body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def explain_for_customer(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """The compliance officer's explanation for one customer."""
    response = api.post("/v1/policy/explain", *COMPLIANCE, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def without_version(explanation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in explanation.items() if k != "policy_version"}


def test_given_a_consenting_customer_then_each_field_names_effect_rule_and_consent(
    api: Api,
) -> None:
    customer = api.store.consented("marketing")[0]

    result = explain_for_customer(
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
    assert "conditions" not in phone  # the customer's own facts decided it
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
    assert (entry["principal_id"], entry["record_ids"]) == ("compliance-officer", [customer])
    (subject,) = api.store.sql(
        "SELECT subject_id FROM audit_subjects WHERE seq = "
        "(SELECT max(seq) FROM audit_events WHERE action = 'policy.explain')"
    )
    assert subject[0] == customer


def test_given_a_customer_without_consent_then_fields_are_withheld_no_consent(api: Api) -> None:
    consented = set(api.store.consented("marketing"))
    customer = next(c for c in api.customer_ids() if c not in consented)

    result = explain_for_customer(
        api, {"roles": ["marketing"], "purpose": "marketing", "customer_id": customer}
    )

    customers = result["entities"]["customers"]
    assert customers["record_outcome"] == "withheld:no_consent"
    assert customers["fields"]["phone"]["outcome"] == "withheld:no_consent"
    assert result["consent"]["status"] in ("none", "withdrawn", "expired")


def test_given_security_admin_names_a_customer_then_403_and_no_customer_fact(api: Api) -> None:
    customer = api.store.consented("marketing")[0]

    response = admin_post(
        api,
        "/v1/policy/explain",
        {"principal": "marketing-app", "purpose": "marketing", "customer_id": customer},
    )

    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["reason"] == "customer_facts_not_allowed"
    assert problem["errors"] == [{"field": "customer_id", "reason": "customer_facts_not_allowed"}]
    for word in ("granted", "minor", "consent_status"):
        assert word not in response.text
    entry = last_audit(api, "policy.explain")
    assert (entry["principal_id"], entry["outcome"], entry["reason"]) == (
        "security-admin",
        "denied",
        "customer_facts_not_allowed",
    )
    assert entry["record_ids"] == []


def test_given_no_customer_then_each_field_says_under_which_consent_conditions_it_changes(
    api: Api,
) -> None:
    desk = explain(api, {"principal": "support-desk", "purpose": "customer_service"})

    assert desk["consent"] is None
    id_number = desk["entities"]["customers"]["fields"]["id_number"]
    assert id_number["outcome"] == "masked"
    assert id_number["conditions"] == {
        "no_consent": "withheld:no_separate_consent",
        "no_separate_consent": "withheld:no_separate_consent",
        "minor_without_guardian_consent": "withheld:guardian_consent_required",
    }
    assert id_number["summary"] == (
        "masked; withheld without consent; withheld without separate consent; "
        "needs guardian consent for minors"
    )
    phone = desk["entities"]["customers"]["fields"]["phone"]
    assert (phone["conditions"], phone["summary"]) == ({}, "masked")

    marketing = explain(api, {"principal": "marketing-app", "purpose": "marketing"})
    customers = marketing["entities"]["customers"]
    assert customers["record_conditions"]["no_consent"] == "withheld:no_consent"
    assert customers["fields"]["phone"]["conditions"]["no_consent"] == "withheld:no_consent"
    assert customers["fields"]["id_number"]["summary"] == "withheld (denied)"
    entry = last_audit(api, "policy.explain")
    assert (entry["principal_id"], entry["record_ids"]) == ("security-admin", [])


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
    ],
)
def test_given_a_bad_question_then_a_problem_names_it(
    api: Api, body: dict[str, Any], status: int, reason: str
) -> None:
    response = admin_post(api, "/v1/policy/explain", body)

    assert response.status_code == status, response.text
    assert response.json()["reason"] == reason


def test_given_an_unknown_customer_then_the_compliance_officer_gets_404(api: Api) -> None:
    body = {
        "roles": ["marketing"],
        "purpose": "marketing",
        "customer_id": "cus_00000000000000000000000000",
    }
    response = api.post("/v1/policy/explain", *COMPLIANCE, json=body)

    assert (response.status_code, response.json()["reason"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("principal", "purpose"),
    [("support-desk", "customer_service"), ("marketing-app", "marketing")],
)
def test_given_a_data_principal_then_explain_is_refused_before_the_question_is_read(
    api: Api, principal: str, purpose: str
) -> None:
    for body in ({"roles": ["marketing"], "purpose": "marketing"}, {"bogus": 1}):
        response = api.post("/v1/policy/explain", principal, purpose, json=body)
        assert (response.status_code, response.json()["reason"]) == (403, "explain_not_allowed")


def test_given_change_and_rollback_then_explain_shows_the_change_and_then_the_original(
    own_api: Api,
) -> None:
    customer = own_api.store.consented("marketing")[0]
    question = {"principal": "marketing-app", "purpose": "marketing", "customer_id": customer}
    with restored_policy(own_api) as start:
        before = explain_for_customer(own_api, question)
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

        during = explain_for_customer(own_api, question)
        phone = during["entities"]["customers"]["fields"]["phone"]
        assert (phone["effect"], phone["outcome"]) == ("deny", "withheld:denied")
        assert phone["rule"]["action"] == "*"
        rolled = admin_post(own_api, f"/v1/policy/rollback/{start}")
        assert rolled.status_code == 200, rolled.text
        after = explain_for_customer(own_api, question)

        assert after["policy_version"] == start + 2
        assert without_version(after) == without_version(before)
