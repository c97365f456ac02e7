"""Separation of duties (GB/T 35273 §7.1), each rule through HTTP.

- The security admin changes policy but reads no customer field and no audit entry.
- The compliance officer reads the audit log but cannot change (or read) policy.
- No principal grants itself roles, purposes or rights (403 `self_grant`).
- No role or principal may hold `policy:admin` together with customer-field reads or
  `audit:read` (422 `separation_of_duties`).
- The security admin issues no key of a principal that reads customer data or the
  audit log (403 `separation_of_duties`); the operator does, on the host.
"""

from __future__ import annotations

import pytest

from policies.document import default_policy_document
from tests.helpers.api import Api
from tests.helpers.policy import (
    ADMIN,
    ADMIN_PURPOSE,
    admin_patch,
    admin_post,
    last_audit,
    newest_version,
)

PURPOSES = sorted(default_policy_document().purposes)


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize(
    "path", ["/v1/customers/{id}", "/v1/customers", "/v1/customers/{id}/orders"]
)
def test_given_security_admin_then_no_customer_read_under_any_purpose(
    api: Api, purpose: str, path: str
) -> None:
    customer = api.customer_ids()[0]

    response = api.get(path.format(id=customer), ADMIN, purpose)

    assert response.status_code == 403, response.text
    expected = "no_access" if purpose == ADMIN_PURPOSE else "purpose_not_allowed"
    assert response.json()["reason"] == expected
    assert "data" not in response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/v1/audit/events",
        "/v1/audit/events/0",
        "/v1/audit/export",
        "/v1/customers/{id}/access-report",
    ],
)
def test_given_security_admin_then_the_audit_log_is_refused(api: Api, path: str) -> None:
    response = api.get(path.format(id=api.customer_ids()[0]), ADMIN, ADMIN_PURPOSE)

    assert response.status_code == 403, response.text
    assert response.json()["reason"] == "audit_not_allowed"


CHANGES = [
    ("post", "/v1/policy/roles", {"name": "shadow"}),
    (
        "post",
        "/v1/policy/rules",
        {
            "role": "compliance",
            "purpose": "compliance_audit",
            "target": "contact.phone",
            "action": "read:clear",
        },
    ),
    (
        "post",
        "/v1/policy/principals",
        {"id": "x", "roles": ["compliance"], "purposes": ["erasure"]},
    ),
    ("patch", "/v1/policy/principals/compliance-officer", {"roles": ["compliance", "marketing"]}),
    ("post", "/v1/policy/principals/compliance-officer/keys", None),
    ("post", "/v1/policy/rollback/1", {}),
    ("patch", "/v1/policy/purposes/marketing", {"retention_days": 1}),
    ("delete", "/v1/policy/roles/marketing", None),
    ("delete", "/v1/policy/keys/0123456789abcdef", None),
]


@pytest.mark.parametrize(("method", "path", "body"), CHANGES)
@pytest.mark.parametrize("purpose", ["compliance_audit", "policy_admin"])
def test_given_compliance_officer_then_every_policy_change_is_refused(
    api: Api, method: str, path: str, body: object, purpose: str
) -> None:
    start = newest_version(api)
    kwargs = {} if body is None else {"json": body}

    response = getattr(api, method)(path, "compliance-officer", purpose, **kwargs)

    assert response.status_code == 403, response.text
    expected = (
        "policy_admin_not_allowed" if purpose == "compliance_audit" else "purpose_not_allowed"
    )
    assert response.json()["reason"] == expected
    assert newest_version(api) == start


def test_given_compliance_officer_then_the_audit_log_is_readable(api: Api) -> None:
    response = api.get("/v1/audit/events?limit=1", "compliance-officer", "compliance_audit")

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"purposes": ["policy_admin", "analytics"]},
        {"roles": ["security_admin", "analyst"]},
    ],
    ids=["purpose", "role"],
)
def test_given_security_admin_granting_itself_then_403_self_grant(
    own_api: Api, body: dict[str, object]
) -> None:
    start = newest_version(own_api)

    response = admin_patch(own_api, f"/v1/policy/principals/{ADMIN}", body)

    assert response.status_code == 403, response.text
    assert response.json()["reason"] == "self_grant"
    assert newest_version(own_api) == start


def test_given_security_admin_widening_its_own_role_then_403_self_grant(own_api: Api) -> None:
    start = newest_version(own_api)
    rule = {
        "role": "security_admin",
        "purpose": "policy_admin",
        "target": "api:consent",
        "action": "consent:write",
    }

    response = admin_post(own_api, "/v1/policy/rules", rule)

    assert (response.status_code, response.json()["reason"]) == (403, "self_grant")
    assert newest_version(own_api) == start


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/policy/rules",
            {
                "role": "security_admin",
                "purpose": "policy_admin",
                "target": "identity.customer_id",
                "action": "read:pseudonymize",
            },
            "roles.security_admin",
        ),
        (
            "/v1/policy/rules",
            {
                "role": "compliance",
                "purpose": "compliance_audit",
                "target": "api:policy",
                "action": "policy:admin",
            },
            "roles.compliance",
        ),
        (
            "/v1/policy/principals",
            {
                "id": "super-user",
                "roles": ["security_admin", "compliance"],
                "purposes": ["policy_admin", "compliance_audit"],
            },
            "principals.super-user",
        ),
    ],
    ids=["admin-reads-fields", "auditor-administers", "one-principal-both"],
)
def test_given_admin_and_reading_duties_combined_then_422_separation_of_duties(
    own_api: Api, path: str, body: dict[str, object], field: str
) -> None:
    start = newest_version(own_api)

    response = admin_post(own_api, path, body)

    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert {"field": field, "reason": "separation_of_duties"} in [
        {"field": e["field"], "reason": e["reason"]} for e in errors
    ]
    assert newest_version(own_api) == start


@pytest.mark.parametrize(
    "principal", ["support-desk", "marketing-app", "analytics-job", "compliance-officer"]
)
def test_given_security_admin_issuing_a_key_of_a_data_principal_then_403_nothing_stored(
    api: Api, principal: str
) -> None:
    """Whoever issues a key can use it: the admin would read customer data (or the audit
    log) through it. Those keys come from the operator on the host."""
    keys_before = api.store.count("api_keys")

    response = admin_post(api, f"/v1/policy/principals/{principal}/keys")

    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["reason"] == "separation_of_duties"
    assert "key" not in problem
    assert f"wardgate keys issue {principal}" in problem["detail"]
    assert api.store.count("api_keys") == keys_before
    entry = last_audit(api, "policy.keys.issue")
    assert (entry["principal_id"], entry["outcome"], entry["status"]) == (ADMIN, "denied", 403)
    assert entry["reason"] == "separation_of_duties"
    assert entry["fields"] == {"principal": principal, "api_key": "refused:separation_of_duties"}
