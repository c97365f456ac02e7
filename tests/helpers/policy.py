"""Shared steps of the policy API tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.helpers.api import Api

ADMIN = "security-admin"
ADMIN_PURPOSE = "policy_admin"


def admin_get(api: Api, path: str, **kw: Any) -> Any:
    return api.get(path, ADMIN, ADMIN_PURPOSE, **kw)


def admin_post(api: Api, path: str, body: Any = None, **kw: Any) -> Any:
    if body is not None:
        kw["json"] = body
    return api.post(path, ADMIN, ADMIN_PURPOSE, **kw)


def admin_patch(api: Api, path: str, body: Any) -> Any:
    return api.patch(path, ADMIN, ADMIN_PURPOSE, json=body)


def admin_delete(api: Api, path: str, **kw: Any) -> Any:
    return api.delete(path, ADMIN, ADMIN_PURPOSE, **kw)


def newest_version(api: Api) -> int:
    response = admin_get(api, "/v1/policy/versions")
    assert response.status_code == 200, response.text
    return int(response.json()["versions"][0]["version"])


@contextmanager
def restored_policy(api: Api) -> Iterator[int]:
    """Yield the newest version; afterwards roll back to it if the test changed policy."""
    start = newest_version(api)
    try:
        yield start
    finally:
        if newest_version(api) != start:
            response = admin_post(api, f"/v1/policy/rollback/{start}", {"comment": "test cleanup"})
            # no_change: the test rolled back itself.
            assert response.status_code == 200 or response.json()["reason"] == "no_change"


def rule_id(api: Api, role: str, purpose: str, target: str, action: str) -> str:
    rules = admin_get(api, f"/v1/policy/rules?role={role}&purpose={purpose}").json()["rules"]
    (found,) = [r for r in rules if (r["target"], r["action"]) == (target, action)]
    return str(found["id"])


def audit_entry(api: Api, seq: int) -> dict[str, Any]:
    rows = api.store.sql(
        "SELECT action, principal_id, outcome, status, fields, record_ids, reason "
        "FROM audit_events WHERE seq = :seq",
        {"seq": seq},
    )
    (row,) = rows
    entry = dict(row._mapping)
    for key in ("fields", "record_ids"):
        if isinstance(entry[key], str):
            entry[key] = json.loads(entry[key])
    return entry


def last_audit(api: Api, action: str) -> dict[str, Any]:
    (seq,) = api.store.sql(
        "SELECT max(seq) FROM audit_events WHERE action = :action", {"action": action}
    )[0]
    return audit_entry(api, int(seq))
