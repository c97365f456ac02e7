"""The security admin's API keys (issued once, never logged, refused for data
principals, revoked at once) and the explain screen with the API's separation of duties
(explaining for one customer is the compliance officer's question)."""

from __future__ import annotations

import json
import logging
import re

import pytest
from structlog.testing import capture_logs

from tests.helpers.console import Console, csrf_of

_NEW_KEY = re.compile(r'data-testid="new-key">([^<]+)<')


@pytest.fixture
def admin(console: Console) -> Console:
    console.sign_in("security-admin", lang="en", tz="Asia/Shanghai")
    return console


def key_count(console: Console) -> int:
    return int(console.api.store.sql("SELECT count(*) FROM api_keys")[0][0])


def test_given_key_issued_then_shown_once_with_copy_button_and_never_logged(
    admin: Console, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    token = csrf_of(admin.get("/console/admin/keys").text)
    before = admin.audit_count()
    with capture_logs() as structured:
        issued = admin.client.post(
            "/console/admin/keys",
            data={"csrf_token": token, "principal": "security-admin"},
            follow_redirects=False,
        )
        listing = admin.get("/console/admin/keys")
    found = _NEW_KEY.search(issued.text)

    assert issued.status_code == 200
    assert found is not None
    key = found.group(1)
    assert key.startswith("wg_")
    assert 'data-copy="new-key"' in issued.text
    assert issued.headers["cache-control"] == "no-store"
    assert key not in listing.text
    assert admin.audit_count() == before + 2
    entries = admin.api.store.sql(
        "SELECT action, outcome, fields FROM audit_events ORDER BY seq DESC LIMIT 2"
    )
    assert [row[:2] for row in entries] == [
        ("policy.principals.list", "allowed"),
        ("policy.keys.issue", "allowed"),
    ]
    captured = capsys.readouterr()
    everything = "\n".join(
        [
            json.dumps(structured, default=str),
            *(r.getMessage() for r in caplog.records),
            captured.out,
            captured.err,
            *(str(cell) for row in entries for cell in row),
        ]
    )
    assert key not in everything
    assert key[3:] not in everything
    # The new key works: it opens the policy API for its principal.
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": "policy_admin"}
    assert admin.client.get("/v1/policy/roles", headers=headers).status_code == 200


def test_given_data_principal_then_key_refused_403_beside_the_principal(admin: Console) -> None:
    token = csrf_of(admin.get("/console/admin/keys").text)
    keys = key_count(admin)
    before = admin.audit_count()

    page = admin.client.post(
        "/console/admin/keys",
        data={"csrf_token": token, "principal": "support-desk"},
        follow_redirects=False,
    )

    assert page.status_code == 403
    assert 'data-testid="error-principal" data-reason="separation_of_duties"' in page.text
    assert "wg_" not in page.text
    assert key_count(admin) == keys
    assert admin.audit_count() == before + 1
    assert admin.last_entry()[:4] == (
        "policy.keys.issue",
        "denied",
        "security-admin",
        "separation_of_duties",
    )


def test_given_key_revoked_then_it_opens_nothing_and_the_list_says_so(admin: Console) -> None:
    keys_page = admin.get("/console/admin/keys")
    issued = admin.client.post(
        "/console/admin/keys",
        data={"csrf_token": csrf_of(keys_page.text), "principal": "security-admin"},
    )
    found = _NEW_KEY.search(issued.text)
    assert found is not None
    key = found.group(1)
    key_id = re.search(r'data-testid="key-id">([^<]+)<', issued.text)
    assert key_id is not None
    before = admin.audit_count()

    revoked = admin.client.post(
        f"/console/admin/keys/{key_id.group(1)}/revoke",
        data={"csrf_token": csrf_of(keys_page.text)},
        follow_redirects=False,
    )

    assert revoked.status_code == 303
    assert admin.audit_count() == before + 1
    assert admin.last_entry()[:3] == ("policy.keys.revoke", "allowed", "security-admin")
    listing = admin.get(revoked.headers["location"])
    assert f"Key {key_id.group(1)} is revoked" in listing.text
    assert f'data-testid="revoke-{key_id.group(1)}"' not in listing.text
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": "policy_admin"}
    assert admin.client.get("/v1/policy/roles", headers=headers).status_code == 401


def test_given_revocation_twice_then_refused_page_not_problem_json(admin: Console) -> None:
    keys_page = admin.get("/console/admin/keys")
    token = csrf_of(keys_page.text)
    issued = admin.client.post(
        "/console/admin/keys", data={"csrf_token": token, "principal": "security-admin"}
    )
    key_id = re.search(r'data-testid="key-id">([^<]+)<', issued.text)
    assert key_id is not None
    path = f"/console/admin/keys/{key_id.group(1)}/revoke"
    admin.client.post(path, data={"csrf_token": token}, follow_redirects=False)

    again = admin.client.post(path, data={"csrf_token": token}, follow_redirects=False)

    assert again.status_code == 409
    assert again.headers["content-type"].startswith("text/html")
    assert 'data-reason="key_revoked"' in again.text


def test_given_admin_explains_a_principal_then_effect_and_deciding_rule_per_field(
    admin: Console,
) -> None:
    token = csrf_of(admin.get("/console/explain").text)
    before = admin.audit_count()

    page = admin.client.post(
        "/console/explain",
        data={"csrf_token": token, "principal": "support-desk", "purpose": "customer_service"},
    )

    assert page.status_code == 200
    assert 'data-testid="effect-customers-phone"><code>mask:' in page.text
    assert "customer_service · customer_service · contact.* · read:mask · allow" in page.text
    assert admin.audit_count() == before + 1
    assert admin.last_entry()[:3] == ("policy.explain", "allowed", "security-admin")
    api = admin.api.post(
        "/v1/policy/explain",
        "security-admin",
        "policy_admin",
        json={"principal": "support-desk", "purpose": "customer_service"},
    ).json()
    for name, field in api["entities"]["customers"]["fields"].items():
        assert f'data-testid="effect-customers-{name}"><code>{field["effect"]}<' in page.text


def test_given_admin_names_a_customer_then_refused_beside_the_customer_id(
    admin: Console,
) -> None:
    customer = admin.api.customer_ids()[0]
    token = csrf_of(admin.get("/console/explain").text)
    before = admin.audit_count()

    page = admin.client.post(
        "/console/explain",
        data={
            "csrf_token": token,
            "principal": "support-desk",
            "purpose": "customer_service",
            "customer_id": customer,
        },
    )

    assert page.status_code == 403
    assert 'data-testid="error-customer_id" data-reason="customer_facts_not_allowed"' in page.text
    assert 'data-testid="answer"' not in page.text
    assert admin.audit_count() == before + 1
    assert admin.last_entry()[:4] == (
        "policy.explain",
        "denied",
        "security-admin",
        "customer_facts_not_allowed",
    )


def test_given_compliance_officer_explains_for_a_customer_then_consent_state_and_subject(
    console: Console,
) -> None:
    console.sign_in("compliance-officer", lang="en")
    customer = console.api.customer_ids()[0]
    token = csrf_of(console.get("/console/explain").text)

    page = console.client.post(
        "/console/explain",
        data={
            "csrf_token": token,
            "principal": "marketing-app",
            "purpose": "marketing",
            "customer_id": customer,
        },
    )

    assert page.status_code == 200
    assert 'data-testid="consent-status"' in page.text
    action, outcome, principal, _, _, _, subjects = console.last_entry()
    assert (action, outcome, principal) == ("policy.explain", "allowed", "compliance-officer")
    assert customer in str(subjects)


def test_given_explain_without_purpose_then_error_beside_it(admin: Console) -> None:
    token = csrf_of(admin.get("/console/explain").text)

    page = admin.client.post(
        "/console/explain", data={"csrf_token": token, "principal": "support-desk"}
    )

    assert page.status_code == 422
    assert 'data-testid="error-purpose" data-reason="required"' in page.text
