"""The policy API through HTTP: every change a new version with author, comment and diff;
invalid changes refused whole; conflicts; rollback restores the exact previous reads;
every change audited with its diff."""

from __future__ import annotations

import pytest

from tests.helpers.api import Api
from tests.helpers.policy import (
    ADMIN,
    ADMIN_PURPOSE,
    admin_delete,
    admin_get,
    admin_patch,
    admin_post,
    last_audit,
    newest_version,
    restored_policy,
    rule_id,
)

PHONE_DENY = {
    "role": "marketing",
    "purpose": "marketing",
    "target": "contact.phone",
    "action": "*",
    "effect": "deny",
}


def marketing_read(api: Api, customer_id: str) -> dict[str, object]:
    response = api.get(f"/v1/customers/{customer_id}", "marketing-app", "marketing")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_given_a_new_role_then_a_new_version_names_author_comment_and_diff(own_api: Api) -> None:
    with restored_policy(own_api) as start:
        response = admin_post(
            own_api,
            "/v1/policy/roles",
            {"name": "auditor", "description": "Internal audit", "comment": "for the audit team"},
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["version"], body["previous_version"]) == (start + 1, start)
        assert body["diff"]["roles"]["added"] == {"auditor": {"description": "Internal audit"}}
        assert body["text"] == ["+ role auditor: {description: Internal audit}"]
        newest = admin_get(own_api, "/v1/policy/versions").json()["versions"][0]
        assert newest["version"] == start + 1
        assert (newest["author"], newest["comment"]) == (ADMIN, "for the audit team")
        assert newest["changes"] == 1
        roles = admin_get(own_api, "/v1/policy/roles").json()
        assert roles["version"] == start + 1
        assert "auditor" in [r["name"] for r in roles["roles"]]
        diff = admin_get(own_api, f"/v1/policy/versions/{start}/diff/{start + 1}").json()
        assert diff["diff"] == body["diff"]
        stored = admin_get(own_api, f"/v1/policy/versions/{start + 1}").json()
        assert stored["document"]["roles"]["auditor"] == {"description": "Internal audit"}
        assert stored["diff"] == body["diff"]


def test_given_phone_denied_then_reads_change_and_rollback_restores_the_exact_read(
    own_api: Api,
) -> None:
    customer = own_api.store.consented("marketing")[0]
    with restored_policy(own_api) as start:
        original = marketing_read(own_api, customer)
        assert original["governance"]["fields"]["phone"] == "masked"  # type: ignore[index]

        denied = admin_post(own_api, "/v1/policy/rules", PHONE_DENY | {"comment": "no calls"})
        assert denied.status_code == 201, denied.text
        after = marketing_read(own_api, customer)
        assert after["governance"]["fields"]["phone"] == "withheld:denied"  # type: ignore[index]
        assert "phone" not in after["data"]  # type: ignore[operator]
        assert after["governance"]["policy_version"] == start + 1  # type: ignore[index]

        rolled = admin_post(own_api, f"/v1/policy/rollback/{start}", {"base_version": start + 1})
        assert rolled.status_code == 200, rolled.text
        assert rolled.json()["version"] == start + 2
        assert rolled.json()["diff"]["rules"]["removed"] == [
            ["marketing", "marketing", "contact.phone", "*", "deny"]
        ]
        restored = marketing_read(own_api, customer)
        assert restored["data"] == original["data"]
        assert {
            k: v
            for k, v in restored["governance"].items()
            if k not in ("audit_id", "policy_version")
        } == {  # type: ignore[union-attr]
            k: v
            for k, v in original["governance"].items()
            if k not in ("audit_id", "policy_version")  # type: ignore[union-attr]
        }
        assert restored["governance"]["policy_version"] == start + 2  # type: ignore[index]
        versions = admin_get(own_api, f"/v1/policy/versions/{start + 2}").json()
        original_doc = admin_get(own_api, f"/v1/policy/versions/{start}").json()["document"]
        assert versions["document"] == original_doc
        assert versions["comment"] == f"rollback to version {start}"


def test_given_a_rule_removed_by_id_then_the_version_records_it(own_api: Api) -> None:
    with restored_policy(own_api) as start:
        rid = rule_id(own_api, "marketing", "marketing", "contact.email", "read:mask")

        response = admin_delete(own_api, f"/v1/policy/rules/{rid}?comment=drop%20email")

        assert response.status_code == 200, response.text
        assert response.json()["diff"]["rules"]["removed"] == [
            ["marketing", "marketing", "contact.email", "read:mask", "allow"]
        ]
        assert admin_get(own_api, "/v1/policy/versions").json()["versions"][0]["comment"] == (
            "drop email"
        )
        assert newest_version(own_api) == start + 1
        missing = admin_delete(own_api, f"/v1/policy/rules/{rid}")
        assert (missing.status_code, missing.json()["reason"]) == (404, "not_found")


def test_given_an_invalid_rule_then_every_problem_is_named_and_nothing_is_applied(
    own_api: Api,
) -> None:
    start = newest_version(own_api)

    response = admin_post(
        own_api,
        "/v1/policy/rules",
        {
            "role": "ghost",
            "purpose": "fishing",
            "target": "medical.record",
            "action": "read:mask",
            "operator": "scramble",
        },
    )

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["reason"] == "unknown_role"
    reasons = sorted(e["reason"] for e in problem["errors"])
    assert reasons == ["unknown_category", "unknown_operator", "unknown_purpose", "unknown_role"]
    assert {e["field"] for e in problem["errors"]} == {problem["errors"][0]["field"]}
    assert newest_version(own_api) == start
    entry = last_audit(own_api, "policy.rules.add")
    assert (entry["outcome"], entry["status"]) == ("invalid", 422)


def test_given_a_role_still_held_by_a_principal_then_its_deletion_is_refused(
    own_api: Api,
) -> None:
    start = newest_version(own_api)

    response = admin_delete(own_api, "/v1/policy/roles/marketing")

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "field": "principals.marketing-app.roles",
            "reason": "unknown_role",
            "detail": "unknown role 'marketing'",
        }
    ]
    assert newest_version(own_api) == start


def test_given_sensitive_clear_then_refused_unless_acknowledged(own_api: Api) -> None:
    with restored_policy(own_api):
        purpose = admin_post(
            own_api,
            "/v1/policy/purposes",
            {
                "id": "fraud_check",
                "name_zh": "反欺诈",
                "name_en": "Fraud checks",
                "legal_basis": "legal_obligation",
                "categories": ["*"],
            },
        )
        assert purpose.status_code == 201, purpose.text
        rule = {
            "role": "customer_service",
            "purpose": "fraud_check",
            "target": "identity.national_id",
            "action": "read:clear",
        }
        version = newest_version(own_api)

        refused = admin_post(own_api, "/v1/policy/rules", rule)

        assert refused.status_code == 422, refused.text
        assert [(e["field"], e["reason"]) for e in refused.json()["errors"]] == [
            ("rules", "sensitive_clear_unacknowledged")
        ]
        assert newest_version(own_api) == version
        token = "sensitive_clear:customer_service:fraud_check:identity.national_id"
        accepted = admin_post(own_api, "/v1/policy/rules", rule | {"acknowledge": [token]})
        assert accepted.status_code == 201, accepted.text
        assert newest_version(own_api) == version + 1


def test_given_clear_travel_documents_inside_text_then_refused_unless_acknowledged(
    own_api: Api,
) -> None:
    """identity.travel_document lives only inside free text: the review finds it in the
    compiled text plan, not among the columns."""
    with restored_policy(own_api):
        purpose = admin_post(
            own_api,
            "/v1/policy/purposes",
            {"id": "border_check", "legal_basis": "legal_obligation", "categories": ["*"]},
        )
        assert purpose.status_code == 201, purpose.text
        rule = {
            "role": "customer_service",
            "purpose": "border_check",
            "target": "text:identity.travel_document",
            "action": "read:clear",
        }
        version = newest_version(own_api)

        refused = admin_post(own_api, "/v1/policy/rules", rule)

        assert refused.status_code == 422, refused.text
        errors = refused.json()["errors"]
        assert [(e["field"], e["reason"]) for e in errors] == [
            ("rules", "sensitive_clear_unacknowledged")
        ]
        token = "sensitive_clear:customer_service:border_check:identity.travel_document"
        assert token in errors[0]["detail"]
        assert "(free text)" in errors[0]["detail"]
        assert newest_version(own_api) == version
        accepted = admin_post(own_api, "/v1/policy/rules", rule | {"acknowledge": [token]})
        assert accepted.status_code == 201, accepted.text
        assert newest_version(own_api) == version + 1


def test_given_a_stale_base_version_then_409_and_nothing_is_applied(own_api: Api) -> None:
    with restored_policy(own_api) as start:
        first = admin_post(own_api, "/v1/policy/roles", {"name": "one", "base_version": start})
        assert first.status_code == 201, first.text

        stale = admin_post(own_api, "/v1/policy/roles", {"name": "two", "base_version": start})

        assert stale.status_code == 409, stale.text
        assert (stale.json()["reason"], stale.json()["latest_version"]) == (
            "version_conflict",
            start + 1,
        )
        assert newest_version(own_api) == start + 1


def test_given_a_change_then_its_audit_entry_carries_the_diff_and_no_customer_value(
    own_api: Api,
) -> None:
    with restored_policy(own_api) as start:
        response = admin_post(own_api, "/v1/policy/rules", PHONE_DENY)
        assert response.status_code == 201, response.text

        entry = last_audit(own_api, "policy.rules.add")

        assert (entry["principal_id"], entry["outcome"], entry["status"]) == (
            ADMIN,
            "allowed",
            201,
        )
        assert entry["record_ids"] == [f"policy_v{start + 1}"]
        assert entry["fields"] == {
            "policy:version": f"{start} -> {start + 1}",
            "rule:marketing|marketing|contact.phone|*|deny": "added",
        }


def test_given_principal_crud_then_each_step_is_a_version(own_api: Api) -> None:
    with restored_policy(own_api) as start:
        created = admin_post(
            own_api,
            "/v1/policy/principals",
            {"id": "bi-job", "roles": ["analyst"], "purposes": ["analytics"], "comment": "BI"},
        )
        assert created.status_code == 201, created.text
        assert created.json()["diff"]["principals"]["added"] == {
            "bi-job": {"description": "", "roles": ["analyst"], "purposes": ["analytics"]}
        }
        updated = admin_patch(
            own_api, "/v1/policy/principals/bi-job", {"purposes": ["analytics", "marketing"]}
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["diff"]["principals"]["changed"] == {
            "bi-job": {"purposes": {"before": ["analytics"], "after": ["analytics", "marketing"]}}
        }
        listed = admin_get(own_api, "/v1/policy/principals").json()
        (bi,) = [p for p in listed["principals"] if p["id"] == "bi-job"]
        assert bi["purposes"] == ["analytics", "marketing"]
        deleted = admin_delete(own_api, "/v1/policy/principals/bi-job")
        assert deleted.status_code == 200, deleted.text
        assert newest_version(own_api) == start + 3


def test_given_purpose_update_then_only_the_named_attribute_changes(own_api: Api) -> None:
    with restored_policy(own_api):
        response = admin_patch(own_api, "/v1/policy/purposes/marketing", {"retention_days": 365})

        assert response.status_code == 200, response.text
        assert response.json()["diff"]["purposes"]["changed"] == {
            "marketing": {"retention_days": {"before": 730, "after": 365}}
        }
        purposes = admin_get(own_api, "/v1/policy/purposes").json()["purposes"]
        assert purposes["marketing"]["retention_days"] == 365


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"),
    [
        ("/v1/policy/roles", {"name": "x", "colour": "red"}, 422, "unknown_field"),
        ("/v1/policy/roles", {"description": "no name"}, 422, "required"),
        ("/v1/policy/roles", {"name": "x", "base_version": "seven"}, 422, "invalid_base_version"),
        ("/v1/policy/roles", {"name": "Bad Name!"}, 422, "invalid_role_name"),
        ("/v1/policy/roles", {"name": "marketing"}, 409, "already_exists"),
        ("/v1/policy/rules", {"role": "marketing"}, 422, "required"),
        ("/v1/policy/purposes", {"id": "x1", "legal_basis": "whim"}, 422, "invalid_purpose"),
        ("/v1/policy/rollback/999", {}, 404, "not_found"),
        ("/v1/policy/rollback/99999999999999999999", {}, 404, "not_found"),
        ("/v1/policy/roles", {"name": "x", "comment": "a\u0000b"}, 422, "invalid_text"),
        (
            "/v1/policy/principals",
            {"id": "Bad Id", "roles": [], "purposes": []},
            422,
            "invalid_principal_id",
        ),
        ("/v1/policy/rules", [1, 2], 400, "invalid_body"),
        ("/v1/policy/principals/nobody/keys", None, 404, "not_found"),
    ],
)
def test_given_a_bad_request_then_a_problem_names_it_and_nothing_changes(
    own_api: Api, path: str, body: object, status: int, reason: str
) -> None:
    start = newest_version(own_api)

    response = admin_post(own_api, path, body)

    assert response.status_code == status, response.text
    assert response.json()["reason"] == reason
    assert newest_version(own_api) == start


def test_given_a_body_that_is_not_json_then_400_invalid_json(own_api: Api) -> None:
    response = own_api.client.post(
        "/v1/policy/roles",
        content=b"{not json",
        headers=own_api.headers(ADMIN, ADMIN_PURPOSE) | {"Content-Type": "application/json"},
    )

    assert (response.status_code, response.json()["reason"]) == (400, "invalid_json")


def test_given_a_body_without_json_media_type_then_415(own_api: Api) -> None:
    response = admin_post(own_api, "/v1/policy/roles", content=b'{"name": "r"}')

    assert (response.status_code, response.json()["reason"]) == (415, "unsupported_media_type")


def test_given_huge_version_numbers_in_reads_then_404_not_500(own_api: Api) -> None:
    for path in (
        "/v1/policy/versions/99999999999999999999",
        "/v1/policy/versions/1/diff/4294967296",
    ):
        response = admin_get(own_api, path)
        assert (response.status_code, response.json()["reason"]) == (404, "not_found"), path


def test_given_a_rollback_to_the_version_in_force_then_409_no_change(own_api: Api) -> None:
    start = newest_version(own_api)

    response = admin_post(own_api, f"/v1/policy/rollback/{start}")

    assert (response.status_code, response.json()["reason"]) == (409, "no_change")
