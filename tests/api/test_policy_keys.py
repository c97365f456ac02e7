"""API keys through the policy API: shown once, stored as a hash, revoked at once, and
never brought back by a rollback."""

from __future__ import annotations

from gateway.auth import hash_api_key
from tests.api.policy_helpers import (
    admin_delete,
    admin_get,
    admin_post,
    last_audit,
    newest_version,
    restored_policy,
)
from tests.conftest import Api


def read_with(api: Api, key: str, purpose: str = "analytics") -> int:
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": purpose}
    response = api.client.get("/v1/customers?limit=1", headers=headers)
    return int(response.status_code)


def test_given_a_key_issued_then_it_is_shown_once_stored_hashed_and_works(own_api: Api) -> None:
    start = newest_version(own_api)

    response = admin_post(own_api, "/v1/policy/principals/analytics-job/keys")

    assert response.status_code == 201, response.text
    issued = response.json()
    key = issued["key"]
    assert key.startswith("wg_")
    assert issued["principal"] == "analytics-job"
    stored = own_api.store.sql(
        "SELECT key_hash FROM api_keys WHERE key_id = :kid", {"kid": issued["key_id"]}
    )
    assert stored == [(hash_api_key(key),)]
    listing = admin_get(own_api, "/v1/policy/principals")
    assert key not in listing.text
    assert hash_api_key(key) not in listing.text
    assert issued["key_id"] in listing.text
    assert read_with(own_api, key) == 200
    entry = last_audit(own_api, "policy.keys.issue")
    assert entry["fields"] == {
        f"api_key:{issued['key_id']}": "issued",
        "principal": "analytics-job",
    }
    assert key not in str(entry)
    # Keys are not policy: no version was made.
    assert newest_version(own_api) == start


def test_given_a_key_revoked_then_the_next_request_is_refused(own_api: Api) -> None:
    issued = admin_post(own_api, "/v1/policy/principals/analytics-job/keys").json()
    assert read_with(own_api, issued["key"]) == 200

    response = admin_delete(own_api, f"/v1/policy/keys/{issued['key_id']}")

    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert read_with(own_api, issued["key"]) == 401
    again = admin_delete(own_api, f"/v1/policy/keys/{issued['key_id']}")
    assert (again.status_code, again.json()["reason"]) == (409, "key_revoked")


def test_given_principal_deleted_and_rolled_back_then_its_keys_stay_revoked(own_api: Api) -> None:
    with restored_policy(own_api) as start:
        created = admin_post(
            own_api,
            "/v1/policy/principals",
            {"id": "etl-job", "roles": ["analyst"], "purposes": ["analytics"]},
        )
        assert created.status_code == 201, created.text
        key = admin_post(own_api, "/v1/policy/principals/etl-job/keys").json()["key"]
        assert read_with(own_api, key) == 200

        deleted = admin_delete(own_api, "/v1/policy/principals/etl-job")
        assert deleted.status_code == 200, deleted.text
        assert read_with(own_api, key) == 401
        rolled = admin_post(own_api, f"/v1/policy/rollback/{start + 1}")
        assert rolled.status_code == 200, rolled.text

        # The principal is back in the policy; its revoked key is not.
        principals = admin_get(own_api, "/v1/policy/principals").json()["principals"]
        (etl,) = [p for p in principals if p["id"] == "etl-job"]
        assert [k["active"] for k in etl["keys"]] == [False]
        assert read_with(own_api, key) == 401


def test_given_a_principal_removed_from_the_policy_then_its_key_opens_nothing(
    own_api: Api,
) -> None:
    with restored_policy(own_api):
        admin_post(
            own_api,
            "/v1/policy/principals",
            {"id": "tmp-job", "roles": ["analyst"], "purposes": ["analytics"]},
        )
        key = admin_post(own_api, "/v1/policy/principals/tmp-job/keys").json()["key"]
        assert read_with(own_api, key) == 200
        # The key row stays active, but the next version does not name its principal.
        version = newest_version(own_api)
        rolled = admin_post(own_api, f"/v1/policy/rollback/{version - 1}")
        assert rolled.status_code == 200, rolled.text
        assert read_with(own_api, key) == 401
