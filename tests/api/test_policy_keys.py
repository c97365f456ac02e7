"""API keys. The policy API issues them only for principals that reach no customer data
and no audit log (separation of duties); each is shown once, stored as a hash, revoked
at once and never brought back by a rollback. The operator issues any principal's key
on the host with `wardgate keys issue`, and it works on the running gateway at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from gateway.access.authentication import hash_api_key
from tests.helpers.api import Api
from tests.helpers.cli import wardgate
from tests.helpers.policy import (
    ADMIN_PURPOSE,
    admin_delete,
    admin_get,
    admin_patch,
    admin_post,
    audit_entry,
    last_audit,
    newest_version,
    restored_policy,
)

SECOND_ADMIN = "second-admin"


def status_with(api: Api, key: str, path: str, purpose: str) -> int:
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": purpose}
    return int(api.client.get(path, headers=headers).status_code)


def administers(api: Api, key: str) -> int:
    return status_with(api, key, "/v1/policy/versions", ADMIN_PURPOSE)


def reads_customers(api: Api, key: str, purpose: str = "customer_service") -> int:
    return status_with(api, key, "/v1/customers?limit=1", purpose)


def eventually(check: Any, expected: int, *args: Any) -> None:
    """A key issued or revoked outside this process reaches it by the hot reload."""
    deadline = time.monotonic() + 10
    while (got := check(*args)) != expected:
        assert time.monotonic() < deadline, f"still {got}, expected {expected}"
        time.sleep(0.05)


@contextmanager
def second_admin(api: Api) -> Iterator[int]:
    """A second policy administrator (reaches no customer data) for the test's duration."""
    with restored_policy(api) as start:
        body = {"id": SECOND_ADMIN, "roles": ["security_admin"], "purposes": [ADMIN_PURPOSE]}
        created = admin_post(api, "/v1/policy/principals", body)
        assert created.status_code == 201, created.text
        yield start


def key_rows(api: Api, principal: str) -> list[Any]:
    return api.store.sql(
        "SELECT key_id, revoked_at FROM api_keys WHERE principal_id = :p ORDER BY created_at",
        {"p": principal},
    )


# --- through the policy API -------------------------------------------------------------


def test_given_a_key_issued_for_another_admin_then_shown_once_stored_hashed_and_works(
    own_api: Api,
) -> None:
    with second_admin(own_api):
        start = newest_version(own_api)

        response = admin_post(own_api, f"/v1/policy/principals/{SECOND_ADMIN}/keys")

        assert response.status_code == 201, response.text
        issued = response.json()
        key = issued["key"]
        assert key.startswith("wg_")
        assert issued["principal"] == SECOND_ADMIN
        stored = own_api.store.sql(
            "SELECT key_hash FROM api_keys WHERE key_id = :kid", {"kid": issued["key_id"]}
        )
        assert stored == [(hash_api_key(key),)]
        listing = admin_get(own_api, "/v1/policy/principals")
        assert key not in listing.text
        assert hash_api_key(key) not in listing.text
        assert issued["key_id"] in listing.text
        assert administers(own_api, key) == 200
        assert reads_customers(own_api, key, ADMIN_PURPOSE) == 403
        entry = last_audit(own_api, "policy.keys.issue")
        assert entry["fields"] == {
            f"api_key:{issued['key_id']}": "issued",
            "principal": SECOND_ADMIN,
        }
        assert key not in str(entry)
        # Keys are not policy: no version was made.
        assert newest_version(own_api) == start


def test_given_a_key_revoked_then_the_next_request_is_refused(own_api: Api) -> None:
    with second_admin(own_api):
        issued = admin_post(own_api, f"/v1/policy/principals/{SECOND_ADMIN}/keys").json()
        assert administers(own_api, issued["key"]) == 200

        response = admin_delete(own_api, f"/v1/policy/keys/{issued['key_id']}")

        assert response.status_code == 200, response.text
        assert response.json()["active"] is False
        assert administers(own_api, issued["key"]) == 401
        again = admin_delete(own_api, f"/v1/policy/keys/{issued['key_id']}")
        assert (again.status_code, again.json()["reason"]) == (409, "key_revoked")


def test_given_principal_deleted_and_rolled_back_then_its_keys_stay_revoked(own_api: Api) -> None:
    with second_admin(own_api) as start:
        issued = admin_post(own_api, f"/v1/policy/principals/{SECOND_ADMIN}/keys").json()
        key = issued["key"]
        assert administers(own_api, key) == 200

        deleted = admin_delete(own_api, f"/v1/policy/principals/{SECOND_ADMIN}")
        assert deleted.status_code == 200, deleted.text
        assert administers(own_api, key) == 401
        rolled = admin_post(own_api, f"/v1/policy/rollback/{start + 1}")
        assert rolled.status_code == 200, rolled.text

        # The principal is back in the policy; its revoked key is not.
        principals = admin_get(own_api, "/v1/policy/principals").json()["principals"]
        (second,) = [p for p in principals if p["id"] == SECOND_ADMIN]
        assert {k["key_id"]: k["active"] for k in second["keys"]}[issued["key_id"]] is False
        assert administers(own_api, key) == 401


def test_given_a_principal_removed_from_the_policy_then_its_key_opens_nothing(
    own_api: Api,
) -> None:
    with second_admin(own_api):
        key = admin_post(own_api, f"/v1/policy/principals/{SECOND_ADMIN}/keys").json()["key"]
        assert administers(own_api, key) == 200
        # The key row stays active, but the next version does not name its principal.
        version = newest_version(own_api)
        rolled = admin_post(own_api, f"/v1/policy/rollback/{version - 1}")
        assert rolled.status_code == 200, rolled.text
        assert administers(own_api, key) == 401


def test_given_a_key_holder_then_a_change_giving_it_data_access_is_refused(
    own_api: Api,
) -> None:
    """Otherwise the admin would issue a key while the principal reaches nothing, then
    give the principal data access — and hold a data principal's key after all."""
    with restored_policy(own_api):
        # The analyst role holds no rules under policy_admin: no data access yet.
        body = {"id": "etl-job", "roles": ["analyst"], "purposes": [ADMIN_PURPOSE]}
        assert admin_post(own_api, "/v1/policy/principals", body).status_code == 201
        issued = admin_post(own_api, "/v1/policy/principals/etl-job/keys")
        assert issued.status_code == 201, issued.text
        before = newest_version(own_api)

        widened = admin_patch(own_api, "/v1/policy/principals/etl-job", {"purposes": ["analytics"]})

        assert widened.status_code == 403, widened.text
        assert widened.json()["reason"] == "separation_of_duties"
        assert "'etl-job'" in widened.json()["detail"]
        (last_seq,) = own_api.store.sql("SELECT max(seq) FROM audit_events")[0]
        entry = audit_entry(own_api, int(last_seq))
        assert (entry["outcome"], entry["reason"]) == ("denied", "separation_of_duties")
        assert entry["fields"] == {"principals.etl-job": "refused:separation_of_duties"}
        assert newest_version(own_api) == before
        assert reads_customers(own_api, issued.json()["key"], "analytics") == 403

        # Once its keys are revoked, the same change is fine: the operator issues new ones.
        revoked = admin_delete(own_api, f"/v1/policy/keys/{issued.json()['key_id']}")
        assert revoked.status_code == 200, revoked.text
        again = admin_patch(own_api, "/v1/policy/principals/etl-job", {"purposes": ["analytics"]})
        assert again.status_code == 200, again.text


# --- by the operator on the host ----------------------------------------------------------


def test_given_the_operator_issues_a_key_then_it_alone_is_printed_and_it_works(
    own_api: Api,
) -> None:
    keys_before = key_rows(own_api, "support-desk")

    result = wardgate(own_api.store.settings, "keys", "issue", "support-desk")

    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    # Nothing else on stdout, so `wardgate keys issue X > file` holds just the key.
    assert result.stdout == f"{key}\n"
    assert key.startswith("wg_")
    assert key not in result.stderr
    rows = key_rows(own_api, "support-desk")
    assert len(rows) == len(keys_before) + 1
    key_id = hash_api_key(key)[:16]
    assert (key_id, None) in rows
    assert key_id in result.stderr
    # The running gateway takes it without a restart.
    eventually(reads_customers, 200, own_api, key)
    entry = last_audit(own_api, "keys.issue")
    assert entry["principal_id"].startswith("cli:")
    assert entry["fields"] == {f"api_key:{key_id}": "issued", "principal": "support-desk"}
    assert key not in str(entry)
    assert hash_api_key(key) not in str(entry)


def test_given_a_data_principals_key_then_the_admin_may_revoke_it(own_api: Api) -> None:
    """Revoking only takes access away: a leaked key is shut at once, through the API."""
    key = wardgate(own_api.store.settings, "keys", "issue", "marketing-app").stdout.strip()
    eventually(reads_customers, 200, own_api, key, "marketing")

    response = admin_delete(own_api, f"/v1/policy/keys/{hash_api_key(key)[:16]}")

    assert response.status_code == 200, response.text
    assert response.json()["principal"] == "marketing-app"
    assert reads_customers(own_api, key, "marketing") == 401


def test_given_the_operator_revokes_a_key_then_the_gateway_refuses_it(own_api: Api) -> None:
    settings = own_api.store.settings
    key = wardgate(settings, "keys", "issue", "analytics-job").stdout.strip()
    eventually(reads_customers, 200, own_api, key, "analytics")
    key_id = hash_api_key(key)[:16]

    result = wardgate(settings, "keys", "revoke", key_id)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    eventually(reads_customers, 401, own_api, key, "analytics")
    entry = last_audit(own_api, "keys.revoke")
    assert entry["fields"] == {f"api_key:{key_id}": "revoked", "principal": "analytics-job"}
    again = wardgate(settings, "keys", "revoke", key_id)
    assert again.exit_code == 1
    assert "already revoked" in again.stderr
    unknown = wardgate(settings, "keys", "revoke", "0123456789abcdef")
    assert unknown.exit_code == 2


@pytest.mark.parametrize("principal", ["nobody", "'; DROP TABLE api_keys; --"])
def test_given_the_operator_names_an_unknown_principal_then_exit_2_and_only_the_refusal_stored(
    own_api: Api, principal: str
) -> None:
    keys_before = own_api.store.count("api_keys")
    issued_before = len(
        own_api.store.sql("SELECT seq FROM audit_events WHERE action = 'keys.issue'")
    )

    result = wardgate(own_api.store.settings, "keys", "issue", principal)

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "there is no principal" in result.stderr
    assert own_api.store.count("api_keys") == keys_before
    # One entry records the refusal; the name typed is not in it.
    after = own_api.store.sql(
        "SELECT outcome, reason, fields FROM audit_events WHERE action = 'keys.issue' ORDER BY seq"
    )
    assert len(after) == issued_before + 1
    outcome, reason, fields = after[-1]
    assert (outcome, reason) == ("invalid", "unknown_principal")
    assert principal not in str(fields)
