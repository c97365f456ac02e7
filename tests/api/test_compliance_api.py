"""The compliance API: filtered audit reads, signed checkpoints, proofs, exports, access reports.

Everything a compliance officer is told is checked against what the store holds (read
around the gateway) or recomputed from the entries themselves, never taken on trust.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest

from audit.canonical import canonical_entry
from audit.checkpoint import Checkpoint, open_signed_checkpoint
from audit.merkle import leaf_hash, root_of, verify_consistency, verify_inclusion
from keys.signing import NoteVerifier
from tests.helpers.api import Api
from tests.helpers.customers import new_customer
from tests.helpers.store import Store

COMPLIANCE = ("compliance-officer", "compliance_audit")
SUPPORT = ("support-desk", "customer_service")
MARKETING = ("marketing-app", "marketing")
PERSONAL_FIELDS = (
    "name",
    "id_number",
    "phone",
    "email",
    "address",
    "bank_card",
    "birth_date",
    "notes",
)
VKEY = re.compile(r"(?P<name>[^\s+]+)\+(?P<id>[0-9a-f]{8})\+(?P<key>[A-Za-z0-9+/]+={0,2})")
# Entry times are not personal data; scrubbing them keeps a birth date that happens to
# fall on today's date from posing as a leak.
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)")


# --- helpers ----------------------------------------------------------------------------


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def stored_entries(store: Store) -> list[dict[str, Any]]:
    """Every audit row, read around the gateway, JSON columns decoded."""
    rows = [dict(r._mapping) for r in store.sql("SELECT * FROM audit_events ORDER BY seq")]
    for row in rows:
        for name in ("record_ids", "subject_ids", "fields"):
            row[name] = _json(row[name])
    return rows


def last_seq(store: Store) -> int:
    return int(store.sql("SELECT coalesce(max(seq), -1) FROM audit_events")[0][0])


def newest_entry(store: Store) -> dict[str, Any]:
    (row,) = store.sql("SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1")
    return dict(row._mapping)


def walk(api: Api, params: dict[str, str], limit: int) -> tuple[list[dict[str, Any]], int]:
    """Follow next_cursor to the end; the entries in order and the number of pages."""
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = params | {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        response = api.get("/v1/audit/events", *COMPLIANCE, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= limit
        entries.extend(body["data"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return entries, pages
        assert pages < 10_000, "paging does not end"


def personal_values(store: Store) -> dict[str, str]:
    """Every stored personal value (decrypted around the gateway) and the field it is in."""
    # Erased or tampered customers (other tests) have fields that no longer decrypt.
    values = {str(row[f]): f for row in store.customers() for f in PERSONAL_FIELDS if row.get(f)}
    assert len(values) > 100, "the store has customers to compare against"
    return values


def leaked(text: str, values: dict[str, str]) -> list[str]:
    """The fields whose stored values appear in text: names only, so a failing assertion
    does not print the very values it caught."""
    scrubbed = TIMESTAMP.sub("<time>", text)
    return sorted({field for value, field in values.items() if value in scrubbed})


def fresh_checkpoint(api: Api) -> tuple[dict[str, Any], Checkpoint]:
    """A checkpoint issued now, opened with the verifier key that came with it."""
    response = api.get("/v1/audit/checkpoints/latest", *COMPLIANCE, params={"refresh": "true"})
    assert response.status_code == 200, response.text
    body = response.json()
    verifier = NoteVerifier.from_vkey(body["verifier_key"])
    return body, open_signed_checkpoint(body["checkpoint"], verifier)


def export_lines(api: Api) -> list[dict[str, Any]]:
    response = api.get("/v1/audit/export", *COMPLIANCE, params={"format": "jsonl"})
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def entry_at(api: Api, seq: int) -> dict[str, Any]:
    response = api.get(f"/v1/audit/events/{seq}", *COMPLIANCE)
    assert response.status_code == 200, response.text
    entry: dict[str, Any] = response.json()["data"]
    return entry


def live_customer(api: Api, *, readable_by: tuple[str, str]) -> str:
    """A customer that `readable_by` may read (marketing needs the customer's consent)."""
    for customer_id in api.customer_ids():
        if api.get(f"/v1/customers/{customer_id}", *readable_by).status_code == 200:
            return customer_id
    pytest.fail(f"no customer readable by {readable_by}")


def read(api: Api, customer_id: str, who: tuple[str, str]) -> dict[str, Any]:
    response = api.get(f"/v1/customers/{customer_id}", *who)
    assert response.status_code == 200, response.text
    governance: dict[str, Any] = response.json()["governance"]
    return governance


# --- events: filters and paging ---------------------------------------------------------


def test_given_customer_filter_then_exactly_the_entries_about_that_customer(api: Api) -> None:
    customer_id = live_customer(api, readable_by=SUPPORT)
    support_read = read(api, customer_id, SUPPORT)["audit_id"]
    expected = [r["seq"] for r in stored_entries(api.store) if customer_id in r["subject_ids"]]
    cutoff = last_seq(api.store)

    entries, _ = walk(api, {"customer_id": customer_id}, limit=500)

    assert support_read in expected
    assert all(customer_id in entry["subject_ids"] for entry in entries)
    assert [e["seq"] for e in entries if e["seq"] <= cutoff] == expected


@pytest.mark.parametrize(
    ("params", "column"),
    [
        ({"principal": "support-desk"}, {"principal_id": "support-desk"}),
        ({"purpose": "marketing"}, {"purpose": "marketing"}),
        ({"action": "customers.read"}, {"action": "customers.read"}),
        ({"outcome": "denied"}, {"outcome": "denied"}),
        (
            {"principal": "support-desk", "action": "customers.read", "outcome": "allowed"},
            {"principal_id": "support-desk", "action": "customers.read", "outcome": "allowed"},
        ),
    ],
    ids=["principal", "purpose", "action", "outcome", "combined"],
)
def test_given_field_filters_then_every_matching_entry_and_no_other(
    api: Api, params: dict[str, str], column: dict[str, str]
) -> None:
    customer_id = live_customer(api, readable_by=MARKETING)
    read(api, customer_id, SUPPORT)
    read(api, customer_id, MARKETING)
    assert api.get(f"/v1/customers/{customer_id}", "support-desk", "marketing").status_code == 403

    def matches(row: dict[str, Any]) -> bool:
        return all(row[name] == value for name, value in column.items())

    expected = [row["seq"] for row in stored_entries(api.store) if matches(row)]
    cutoff = last_seq(api.store)

    entries, _ = walk(api, params, limit=500)

    assert expected, "the session made entries that match"
    assert all(matches(entry) for entry in entries)
    assert [e["seq"] for e in entries if e["seq"] <= cutoff] == expected


def test_given_small_limit_then_cursor_pages_walk_every_match_once_in_order(api: Api) -> None:
    customer_id = live_customer(api, readable_by=SUPPORT)
    for _ in range(7):
        read(api, customer_id, SUPPORT)
    expected = [
        row["seq"] for row in stored_entries(api.store) if row["principal_id"] == "support-desk"
    ]

    entries, pages = walk(api, {"principal": "support-desk"}, limit=3)

    seqs = [entry["seq"] for entry in entries]
    assert seqs == expected
    assert len(set(seqs)) == len(seqs)
    assert len(expected) >= 7
    assert pages == -(-len(expected) // 3), "no empty trailing page, no page skipped"


def test_given_order_desc_then_cursor_pages_walk_every_match_once_newest_first(
    api: Api,
) -> None:
    customer_id = live_customer(api, readable_by=SUPPORT)
    for _ in range(7):
        read(api, customer_id, SUPPORT)
    expected = [
        row["seq"] for row in stored_entries(api.store) if row["principal_id"] == "support-desk"
    ]

    entries, pages = walk(api, {"principal": "support-desk", "order": "desc"}, limit=3)

    seqs = [entry["seq"] for entry in entries]
    assert seqs == expected[::-1]
    assert pages == -(-len(expected) // 3), "no empty trailing page, no page skipped"


def test_given_order_desc_then_first_page_is_the_newest_entries(api: Api) -> None:
    customer_id = live_customer(api, readable_by=SUPPORT)
    newest = read(api, customer_id, SUPPORT)["audit_id"]

    response = api.get("/v1/audit/events", *COMPLIANCE, params={"order": "desc", "limit": "2"})

    assert response.status_code == 200, response.text
    assert [entry["seq"] for entry in response.json()["data"]] == [newest, newest - 1]


@pytest.mark.parametrize(("first", "then"), [("asc", "desc"), ("desc", "asc")])
def test_given_cursor_of_the_other_order_then_400_invalid_cursor(
    api: Api, first: str, then: str
) -> None:
    page = api.get("/v1/audit/events", *COMPLIANCE, params={"limit": "2", "order": first}).json()
    assert page["next_cursor"]

    response = api.get(
        "/v1/audit/events",
        *COMPLIANCE,
        params={"limit": "2", "order": then, "cursor": page["next_cursor"]},
    )

    assert response.status_code == 400
    assert response.json()["reason"] == "invalid_cursor"


@pytest.mark.parametrize("order", ["DESC", "newest", "-seq", "desc,asc"])
def test_given_unknown_order_then_400_naming_order(api: Api, order: str) -> None:
    before = api.store.count("audit_events")

    response = api.get("/v1/audit/events", *COMPLIANCE, params={"order": order})

    assert response.status_code == 400
    problem = response.json()
    assert problem["reason"] == "invalid_order"
    assert problem["errors"] == [{"field": "order", "reason": "invalid_order"}]
    assert "order" in problem["detail"]
    assert api.store.count("audit_events") == before + 1, "the refusal is audited"


def test_given_cursor_from_elsewhere_then_400_invalid_cursor(api: Api) -> None:
    page = api.get("/v1/customers", *SUPPORT, params={"limit": "1"}).json()
    response = api.get(
        "/v1/audit/events", *COMPLIANCE, params={"cursor": page["next_cursor"], "limit": "1"}
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "invalid_cursor"


def test_given_time_range_with_offsets_then_entries_from_since_up_to_until(api: Api) -> None:
    customer_id = live_customer(api, readable_by=SUPPORT)
    seqs = [read(api, customer_id, SUPPORT)["audit_id"] for _ in range(5)]
    rows = {row["seq"]: row for row in stored_entries(api.store)}
    since = dt.datetime.fromisoformat(rows[seqs[1]]["occurred_at"])
    until = dt.datetime.fromisoformat(rows[seqs[3]]["occurred_at"])
    expected = [
        seq
        for seq, row in rows.items()
        if since <= dt.datetime.fromisoformat(row["occurred_at"]) < until
    ]
    # Other offsets than the stored UTC: the gateway must compare instants, not strings.
    params = {
        "since": since.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(),
        "until": until.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat(),
    }

    entries, _ = walk(api, params, limit=2)

    assert [entry["seq"] for entry in entries] == expected
    assert seqs[1] in expected
    assert seqs[3] not in expected


def test_given_since_in_zulu_form_then_it_is_accepted(api: Api) -> None:
    start = last_seq(api.store)
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    customer_id = live_customer(api, readable_by=SUPPORT)
    seq = read(api, customer_id, SUPPORT)["audit_id"]

    entries, _ = walk(api, {"since": since, "principal": "support-desk"}, limit=500)

    assert seq in [entry["seq"] for entry in entries]
    assert all(entry["seq"] > start for entry in entries)


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},  # no timezone: which instant is meant is unknown
        {"until": "2026-13-01T00:00:00+00:00"},
        {"until": "2026-01-01 00:00"},
    ],
)
def test_given_bad_time_then_400_invalid_time(api: Api, params: dict[str, str]) -> None:
    response = api.get("/v1/audit/events", *COMPLIANCE, params=params)
    assert response.status_code == 400
    assert response.json()["reason"] == "invalid_time"


@pytest.mark.parametrize(
    "params",
    [{"since": "0001-01-01T00:00:00+14:00"}, {"until": "9999-12-31T23:59:59-14:00"}],
)
def test_given_time_at_the_edge_of_the_calendar_then_400_not_500(
    api: Api, params: dict[str, str]
) -> None:
    response = api.get("/v1/audit/events", *COMPLIANCE, params=params)
    assert response.status_code == 400


def test_given_every_event_page_then_no_stored_personal_value_appears(api: Api) -> None:
    values = personal_values(api.store)
    api.get("/v1/customers", *SUPPORT, params={"limit": "40"})
    api.get("/v1/customers", *MARKETING, params={"limit": "40"})
    response = api.get("/v1/audit/events", *COMPLIANCE, params={"limit": "500"})
    pages = [response.text]
    while cursor := response.json()["next_cursor"]:
        response = api.get(
            "/v1/audit/events", *COMPLIANCE, params={"limit": "500", "cursor": cursor}
        )
        pages.append(response.text)
    assert leaked("\n".join(pages), values) == []


# --- one event ----------------------------------------------------------------------------


def test_given_seq_then_that_entry_exactly_as_hashed(api: Api) -> None:
    customer_id = live_customer(api, readable_by=SUPPORT)
    seq = read(api, customer_id, SUPPORT)["audit_id"]

    response = api.get(f"/v1/audit/events/{seq}", *COMPLIANCE)

    assert response.status_code == 200
    entry = response.json()["data"]
    stored = next(row for row in stored_entries(api.store) if row["seq"] == seq)
    assert entry["seq"] == seq
    assert entry["principal_id"] == "support-desk"
    assert entry["action"] == "customers.read"
    assert entry["subject_ids"] == [customer_id]
    assert entry["leaf_hash"] == stored["leaf_hash"]
    assert leaf_hash(canonical_entry(entry)).hex() == stored["leaf_hash"]


def test_given_unknown_seq_then_404(api: Api) -> None:
    response = api.get(f"/v1/audit/events/{last_seq(api.store) + 1000}", *COMPLIANCE)
    assert response.status_code == 404
    assert response.json()["reason"] == "not_found"


def test_given_seq_beyond_64_bits_then_a_4xx_not_500(api: Api) -> None:
    response = api.get(f"/v1/audit/events/{2**64}", *COMPLIANCE)
    assert response.status_code in (400, 404)


# --- every read of the log is itself audited ----------------------------------------------


READS: list[tuple[str, dict[str, str], str]] = [
    ("/v1/audit/events", {"limit": "5"}, "audit.events.list"),
    ("/v1/audit/events/0", {}, "audit.events.read"),
    ("/v1/audit/verify", {}, "audit.verify"),
    ("/v1/audit/checkpoints/latest", {}, "audit.checkpoint"),
    ("/v1/audit/checkpoints/latest", {"refresh": "true"}, "audit.checkpoint"),
    ("/v1/audit/proofs/inclusion", {"seq": "0", "tree_size": "2"}, "audit.proof.inclusion"),
    ("/v1/audit/proofs/consistency", {"first": "1", "second": "2"}, "audit.proof.consistency"),
    ("/v1/audit/export", {"format": "jsonl"}, "audit.export"),
    ("/v1/audit/export", {"format": "csv"}, "audit.export"),
    ("/v1/customers/{customer}/access-report", {}, "customers.access_report"),
]
READ_IDS = [
    "events",
    "event",
    "verify",
    "checkpoint",
    "checkpoint-refresh",
    "inclusion",
    "consistency",
    "export-jsonl",
    "export-csv",
    "access-report",
]


@pytest.mark.parametrize(("path", "params", "action"), READS, ids=READ_IDS)
def test_given_compliance_read_then_it_appends_exactly_its_own_entry(
    api: Api, path: str, params: dict[str, str], action: str
) -> None:
    path = path.format(customer=api.customer_ids()[0])
    before = api.store.count("audit_events")

    response = api.get(path, *COMPLIANCE, params=params)

    assert response.status_code == 200, response.text
    assert api.store.count("audit_events") == before + 1
    entry = newest_entry(api.store)
    assert entry["seq"] == before
    assert entry["action"] == action
    assert entry["principal_id"] == "compliance-officer"
    assert entry["purpose"] == "compliance_audit"
    assert (entry["outcome"], entry["status"]) == ("allowed", 200)
    if "application/json" in response.headers["content-type"]:
        governance = response.json().get("governance")
        if governance is not None:
            assert governance["audit_id"] == entry["seq"]


def test_given_compliance_call_that_fails_then_it_is_audited_too(api: Api) -> None:
    before = api.store.count("audit_events")
    response = api.get(f"/v1/audit/events/{last_seq(api.store) + 1000}", *COMPLIANCE)
    assert response.status_code == 404
    assert api.store.count("audit_events") == before + 1
    entry = newest_entry(api.store)
    assert (entry["action"], entry["outcome"], entry["status"]) == (
        "audit.events.read",
        "invalid",
        404,
    )


OTHER_ROLES = [
    pytest.param(who, read_case, id=f"{who[0]}-{case_id}")
    for who in (SUPPORT, ("security-admin", "policy_admin"))
    for read_case, case_id in zip(READS, READ_IDS, strict=True)
] + [
    pytest.param(who, READS[index], id=f"{who[0]}-{READ_IDS[index]}")
    for who in (MARKETING, ("analytics-job", "analytics"))
    for index in (0, 7, 9)
]


@pytest.mark.parametrize(("who", "case"), OTHER_ROLES)
def test_given_non_compliance_role_then_403_audit_not_allowed_and_audited(
    api: Api, who: tuple[str, str], case: tuple[str, dict[str, str], str]
) -> None:
    path, params, action = case
    path = path.format(customer=api.customer_ids()[0])
    before = api.store.count("audit_events")

    response = api.get(path, *who, params=params)

    assert response.status_code == 403
    problem = response.json()
    assert problem["reason"] == "audit_not_allowed"
    assert "data" not in problem
    assert "leaf_hash" not in response.text
    assert api.store.count("audit_events") == before + 1
    entry = newest_entry(api.store)
    assert (entry["principal_id"], entry["purpose"]) == who
    assert (entry["action"], entry["outcome"], entry["status"]) == (action, "denied", 403)
    assert entry["reason"] == "audit_not_allowed"


@pytest.mark.parametrize(
    ("who", "status", "reason"),
    [
        ((None, "compliance_audit"), 401, "missing_api_key"),
        (("compliance-officer", "customer_service"), 403, "purpose_not_allowed"),
        (("support-desk", "compliance_audit"), 403, "purpose_not_allowed"),
        (("compliance-officer", None), 400, "missing_purpose"),
    ],
)
def test_given_wrong_key_or_purpose_then_refused_before_any_entry_is_read(
    api: Api, who: tuple[str | None, str | None], status: int, reason: str
) -> None:
    before = api.store.count("audit_events")
    response = api.get("/v1/audit/export", *who)
    assert response.status_code == status
    assert response.json()["reason"] == reason
    assert "leaf_hash" not in response.text
    assert api.store.count("audit_events") == before + 1


# --- checkpoints ------------------------------------------------------------------------


def test_given_refresh_then_signed_checkpoint_opens_with_its_verifier_key(api: Api) -> None:
    before = api.store.count("audit_events")

    body, opened = fresh_checkpoint(api)

    match = VKEY.fullmatch(body["verifier_key"])
    assert match is not None, "verifier key in C2SP vkey form"
    key = base64.b64decode(match["key"], validate=True)
    assert (key[0], len(key)) == (0x01, 33), "Ed25519 algorithm byte and a 32-byte key"
    verifier = NoteVerifier.from_vkey(body["verifier_key"])
    assert opened.origin == verifier.name == match["name"]
    assert opened.tree_size == body["tree_size"] == before
    assert opened.root_hash.hex() == body["root_hash"]
    stored = api.store.sql(
        "SELECT root_hash, note FROM audit_checkpoints WHERE tree_size = :n", {"n": before}
    )
    assert [tuple(row) for row in stored] == [(body["root_hash"], body["checkpoint"])]


def test_given_latest_without_refresh_then_the_newest_stored_checkpoint(api: Api) -> None:
    issued, _ = fresh_checkpoint(api)
    response = api.get("/v1/audit/checkpoints/latest", *COMPLIANCE)
    assert response.status_code == 200
    assert response.json()["checkpoint"] == issued["checkpoint"]
    assert response.json()["tree_size"] == issued["tree_size"]


def test_given_two_refreshes_then_second_covers_more_and_both_keep_the_same_key(api: Api) -> None:
    first, opened_first = fresh_checkpoint(api)
    second, opened_second = fresh_checkpoint(api)
    assert opened_second.tree_size > opened_first.tree_size
    assert first["verifier_key"] == second["verifier_key"]


# --- proofs -----------------------------------------------------------------------------


def test_given_fresh_checkpoint_then_inclusion_proofs_verify_against_its_root(api: Api) -> None:
    _, checkpoint = fresh_checkpoint(api)
    size = checkpoint.tree_size
    assert size > 4

    for seq in sorted({0, 1, size // 3, size // 2, size - 2, size - 1}):
        response = api.get(
            "/v1/audit/proofs/inclusion",
            *COMPLIANCE,
            params={"seq": str(seq), "tree_size": str(size)},
        )
        assert response.status_code == 200, response.text
        proof = [bytes.fromhex(node) for node in response.json()["proof"]]
        leaf = leaf_hash(canonical_entry(entry_at(api, seq)))
        assert verify_inclusion(leaf, seq, size, proof, checkpoint.root_hash), seq
        # The proof is for this entry's position, not any position.
        other = (seq + 1) % size
        assert not verify_inclusion(leaf, other, size, proof, checkpoint.root_hash)


def test_given_older_and_newer_checkpoints_then_consistency_proof_verifies(api: Api) -> None:
    _, older = fresh_checkpoint(api)
    customer_id = live_customer(api, readable_by=SUPPORT)
    for _ in range(3):
        read(api, customer_id, SUPPORT)
    _, newer = fresh_checkpoint(api)
    assert older.tree_size < newer.tree_size

    response = api.get(
        "/v1/audit/proofs/consistency",
        *COMPLIANCE,
        params={"first": str(older.tree_size), "second": str(newer.tree_size)},
    )

    assert response.status_code == 200, response.text
    proof = [bytes.fromhex(node) for node in response.json()["proof"]]
    assert verify_consistency(
        older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, proof
    )
    forged_root = bytes(32)
    assert not verify_consistency(
        older.tree_size, newer.tree_size, forged_root, newer.root_hash, proof
    )


def test_given_equal_sizes_then_consistency_proof_is_empty(api: Api) -> None:
    _, checkpoint = fresh_checkpoint(api)
    size = str(checkpoint.tree_size)
    response = api.get(
        "/v1/audit/proofs/consistency", *COMPLIANCE, params={"first": size, "second": size}
    )
    assert response.status_code == 200
    assert response.json()["proof"] == []
    assert response.json()["second_root_hash"] == checkpoint.root_hash.hex()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/audit/proofs/inclusion", {"seq": "5", "tree_size": "5"}),
        ("/v1/audit/proofs/inclusion", {"seq": "7", "tree_size": "3"}),
        ("/v1/audit/proofs/inclusion", {"seq": "0", "tree_size": "0"}),
        ("/v1/audit/proofs/inclusion", {"seq": "0", "tree_size": "{beyond}"}),
        ("/v1/audit/proofs/consistency", {"first": "0", "second": "3"}),
        ("/v1/audit/proofs/consistency", {"first": "4", "second": "3"}),
        ("/v1/audit/proofs/consistency", {"first": "1", "second": "{beyond}"}),
    ],
)
def test_given_proof_range_outside_the_log_then_400_invalid_proof_range(
    api: Api, path: str, params: dict[str, str]
) -> None:
    beyond = str(api.store.count("audit_events") + 1000)
    params = {name: value.format(beyond=beyond) for name, value in params.items()}
    response = api.get(path, *COMPLIANCE, params=params)
    assert response.status_code == 400
    assert response.json()["reason"] == "invalid_proof_range"


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        ("/v1/audit/proofs/inclusion", {"tree_size": "3"}, "invalid_seq"),
        ("/v1/audit/proofs/inclusion", {"seq": "-1", "tree_size": "3"}, "invalid_seq"),
        ("/v1/audit/proofs/inclusion", {"seq": "0", "tree_size": "three"}, "invalid_tree_size"),
        ("/v1/audit/proofs/consistency", {"first": "1.0", "second": "3"}, "invalid_first"),
        ("/v1/audit/proofs/consistency", {"first": "1"}, "invalid_second"),
    ],
)
def test_given_proof_argument_that_is_not_a_number_then_400_naming_it(
    api: Api, path: str, params: dict[str, str], reason: str
) -> None:
    response = api.get(path, *COMPLIANCE, params=params)
    assert response.status_code == 400
    assert response.json()["reason"] == reason


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/audit/proofs/inclusion", {"seq": "²", "tree_size": "3"}),
        ("/v1/audit/proofs/consistency", {"first": "1", "second": "²"}),
        ("/v1/audit/events", {"limit": "²"}),
    ],
    ids=["inclusion-seq", "consistency-second", "events-limit"],
)
def test_given_superscript_digit_then_400_not_500(
    api: Api, path: str, params: dict[str, str]
) -> None:
    response = api.get(path, *COMPLIANCE, params=params)
    assert response.status_code == 400


# --- export -------------------------------------------------------------------------------


def test_given_jsonl_export_then_every_line_rehashes_and_the_prefix_has_the_signed_root(
    api: Api,
) -> None:
    _, checkpoint = fresh_checkpoint(api)

    response = api.get("/v1/audit/export", *COMPLIANCE, params={"format": "jsonl"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "content-length" not in response.headers, "streamed, not buffered"
    assert response.text.endswith("\n")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["seq"] for line in lines] == list(range(len(lines)))
    assert len(lines) > checkpoint.tree_size
    for line in lines:
        assert set(line) == {"seq", "entry", "leaf_hash"}
        entry = json.loads(line["entry"])
        assert entry["seq"] == line["seq"]
        assert canonical_entry(entry).decode() == line["entry"], "the entry as hashed"
        assert leaf_hash(line["entry"].encode()).hex() == line["leaf_hash"]
    leaves = [bytes.fromhex(line["leaf_hash"]) for line in lines]
    assert root_of(leaves[: checkpoint.tree_size]) == checkpoint.root_hash
    stored = [row["leaf_hash"] for row in stored_entries(api.store)]
    assert [line["leaf_hash"] for line in lines] == stored[: len(lines)]


# Spelled out on purpose, in the order the README documents, rather than taken from
# audit.canonical.ENTRY_FIELDS: the CSV columns are a published contract, and this list is
# the independent check that a change to ENTRY_FIELDS (a field added, the order changed)
# does not silently move a spreadsheet's columns.
CSV_HEADER = [
    "seq",
    "occurred_at",
    "request_id",
    "principal_id",
    "on_behalf_of",
    "purpose",
    "legal_basis",
    "action",
    "entity",
    "record_ids",
    "subject_ids",
    "fields",
    "policy_version",
    "outcome",
    "status",
    "reason",
    "classification",
    "leaf_hash",
]


def split_cell(cell: str, separator: str) -> list[str]:
    """`cell` split at each `separator` not preceded by the escaping backslash; the
    escapes are kept (they are undone once a part is split all the way)."""
    parts, current, escaped = [], "", False
    for char in cell:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def read_cell(cell: str, like: Any) -> Any:
    """A CSV cell read back the way the README says to read it, shaped like `like`."""
    if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@"):
        cell = cell[1:]
    if like is None or isinstance(like, str):
        return None if cell == "" and like is None else cell
    if isinstance(like, int):
        return int(cell)
    if isinstance(like, list):
        return [unescape(item) for item in split_cell(cell, ";")] if cell else []
    result: dict[str, Any] = {}
    for pair in split_cell(cell, ";") if cell else []:
        key, value = split_cell(pair, "=")
        if any(isinstance(inner, dict) for inner in like.values()):
            outer, inner = key.split(".")
            result.setdefault(unescape(outer), {})[unescape(inner)] = int(value)
        else:
            result[unescape(key)] = unescape(value)
    return result


def csv_export(api: Api) -> tuple[bytes, list[list[str]]]:
    response = api.get("/v1/audit/export", *COMPLIANCE, params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="wardgate-audit.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    return response.content, rows


def test_given_csv_export_then_one_column_per_entry_field_and_the_same_entries_as_jsonl(
    api: Api,
) -> None:
    customer_id = live_customer(api, readable_by=SUPPORT)
    read_seq = read(api, customer_id, SUPPORT)["audit_id"]
    jsonl = export_lines(api)

    raw, rows = csv_export(api)

    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark"
    assert b"\r\n" in raw
    assert rows[0] == CSV_HEADER
    body = rows[1:]
    assert len(body) > len(jsonl), "the CSV export came later and holds the JSONL export's entry"
    assert all(len(row) == len(CSV_HEADER) for row in body)
    for line, row in zip(jsonl, body, strict=False):
        entry = json.loads(line["entry"])
        cells = dict(zip(CSV_HEADER, row, strict=True))
        assert cells["leaf_hash"] == line["leaf_hash"]
        for name in CSV_HEADER[:-1]:
            expected = entry.get(name)
            like = expected if expected is not None else ({} if name == "classification" else None)
            assert read_cell(cells[name], like) == (expected if expected is not None else like), (
                line["seq"],
                name,
            )
    # Readable as written, not only after parsing:
    row = dict(zip(CSV_HEADER, body[read_seq], strict=True))
    assert row["subject_ids"] == customer_id
    assert row["record_ids"] == customer_id
    assert "name=masked" in row["fields"].split(";")
    assert (row["principal_id"], row["action"], row["outcome"]) == (
        "support-desk",
        "customers.read",
        "allowed",
    )


def test_given_caller_input_that_looks_like_a_formula_then_csv_cell_is_text(api: Api) -> None:
    customer_id = live_customer(api, readable_by=SUPPORT)
    headers = api.headers(*SUPPORT) | {
        # Markup characters are refused in X-On-Behalf-Of; a formula needs none of them.
        "X-On-Behalf-Of": "=SUM(1+2)*cmd|x!A0",
        "X-Request-Id": "-2-3",
    }
    response = api.client.get(f"/v1/customers/{customer_id}", headers=headers)
    assert response.status_code == 200
    seq = response.json()["governance"]["audit_id"]

    _, rows = csv_export(api)

    row = dict(zip(CSV_HEADER, rows[1 + seq], strict=True))
    assert row["on_behalf_of"] == "'=SUM(1+2)*cmd|x!A0"
    assert row["request_id"] == "'-2-3"


def test_given_unknown_export_format_then_400_invalid_format(api: Api) -> None:
    response = api.get("/v1/audit/export", *COMPLIANCE, params={"format": "xml"})
    assert response.status_code == 400
    assert response.json()["reason"] == "invalid_format"


def test_given_exports_then_no_stored_personal_value_appears(api: Api) -> None:
    values = personal_values(api.store)
    api.get("/v1/customers", *SUPPORT, params={"limit": "40"})
    for fmt in ("jsonl", "csv"):
        response = api.get("/v1/audit/export", *COMPLIANCE, params={"format": fmt})
        assert response.status_code == 200
        assert leaked(response.text, values) == []


# --- verify -------------------------------------------------------------------------------


def test_given_untampered_log_then_verify_reports_ok_and_the_recomputed_root(api: Api) -> None:
    _, checkpoint = fresh_checkpoint(api)

    response = api.get("/v1/audit/verify", *COMPLIANCE)

    assert response.status_code == 200
    report = response.json()["data"]
    assert report["ok"] is True
    assert report["problem"] is None
    assert report["first_bad_seq"] is None
    assert report["entries"] >= checkpoint.tree_size
    assert report["checkpoints_verified"] >= 1
    assert report["latest_checkpoint"] >= checkpoint.tree_size
    leaves = [leaf_hash(line["entry"].encode()) for line in export_lines(api)]
    assert root_of(leaves[: report["entries"]]).hex() == report["root_hash"]


# --- access report ------------------------------------------------------------------------


def test_given_reads_by_two_apps_then_access_report_lists_both_and_no_values(api: Api) -> None:
    values = personal_values(api.store)
    customer_id = live_customer(api, readable_by=MARKETING)
    other_id = next(c for c in api.customer_ids() if c != customer_id)
    started = dt.datetime.now(dt.UTC)
    support = read(api, customer_id, SUPPORT)
    marketing = read(api, customer_id, MARKETING)
    finished = dt.datetime.now(dt.UTC)
    expected = [r["seq"] for r in stored_entries(api.store) if customer_id in r["subject_ids"]]

    response = api.get(f"/v1/customers/{customer_id}/access-report", *COMPLIANCE)

    assert response.status_code == 200
    report = response.json()["data"]
    assert report["customer_id"] == customer_id
    accesses = {access["seq"]: access for access in report["accesses"]}
    assert [access["seq"] for access in report["accesses"]] == expected
    for governance, (principal, purpose) in ((support, SUPPORT), (marketing, MARKETING)):
        access = accesses[governance["audit_id"]]
        assert (access["principal"], access["purpose"]) == (principal, purpose)
        assert (access["action"], access["outcome"]) == ("customers.read", "allowed")
        assert access["fields"] == governance["fields"]
        assert started <= dt.datetime.fromisoformat(access["time"]) <= finished
    assert accesses[marketing["audit_id"]]["fields"]["id_number"] == "withheld:denied"
    assert accesses[support["audit_id"]]["fields"]["phone"] == "masked"
    assert leaked(response.text, values) == []

    other = api.get(f"/v1/customers/{other_id}/access-report", *COMPLIANCE)
    assert other.status_code == 200
    other_seqs = {access["seq"] for access in other.json()["data"]["accesses"]}
    assert support["audit_id"] not in other_seqs
    assert marketing["audit_id"] not in other_seqs


def test_given_access_report_then_it_appears_in_that_customers_next_report(api: Api) -> None:
    customer_id = api.customer_ids()[2]
    first = api.get(f"/v1/customers/{customer_id}/access-report", *COMPLIANCE).json()
    second = api.get(f"/v1/customers/{customer_id}/access-report", *COMPLIANCE).json()
    audited = [a for a in second["data"]["accesses"] if a["seq"] == first["governance"]["audit_id"]]
    assert len(audited) == 1
    assert (audited[0]["principal"], audited[0]["action"]) == (
        "compliance-officer",
        "customers.access_report",
    )


def test_given_unknown_customer_id_then_access_report_404_and_audited_without_subject(
    api: Api,
) -> None:
    unknown = "cus_00000000000000000000000000"
    before = api.store.count("audit_events")

    response = api.get(f"/v1/customers/{unknown}/access-report", *COMPLIANCE)

    assert response.status_code == 404
    assert response.json()["reason"] == "not_found"
    assert "accesses" not in response.text
    assert api.store.count("audit_events") == before + 1
    entry = newest_entry(api.store)
    assert (entry["action"], entry["outcome"], entry["status"]) == (
        "customers.access_report",
        "invalid",
        404,
    )
    assert _json(entry["subject_ids"]) == []


def test_given_read_refused_for_no_consent_then_report_and_entry_list_nothing_as_shown(
    api: Api,
) -> None:
    customer_id = new_customer(api)
    shown = read(api, customer_id, SUPPORT)
    refused = api.get(f"/v1/customers/{customer_id}", *MARKETING)
    assert refused.status_code == 403
    assert refused.json()["reason"] == "no_consent"
    refused_seq = newest_entry(api.store)["seq"]

    report = api.get(f"/v1/customers/{customer_id}/access-report", *COMPLIANCE).json()["data"]

    assert report["erased"] is False
    accesses = {access["seq"]: access for access in report["accesses"]}
    denied = accesses[refused_seq]
    assert (denied["principal"], denied["purpose"]) == MARKETING
    assert (denied["outcome"], denied["status"], denied["reason"]) == ("denied", 403, "no_consent")
    assert denied["fields"] == {}, "a refused read showed nothing"
    assert denied["requested"] == []
    allowed = accesses[shown["audit_id"]]
    assert (allowed["outcome"], allowed["status"], allowed["reason"]) == ("allowed", 200, None)
    assert allowed["fields"] == shown["fields"]
    assert allowed["fields"]["name"] == "masked"
    assert allowed["requested"] == []
    # The entry itself, as the event listing shows it, lists no field effect either.
    assert entry_at(api, refused_seq)["fields"] == {}
    events, _ = walk(api, {"customer_id": customer_id, "outcome": "denied"}, limit=50)
    assert [(e["seq"], e["fields"], e["reason"]) for e in events] == [
        (refused_seq, {}, "no_consent")
    ]


def test_given_refused_write_then_report_lists_its_fields_as_requested_not_shown(
    api: Api,
) -> None:
    customer_id = new_customer(api, birth=dt.date(1990, 5, 5))
    # A birth date the stored resident ID contradicts: refused after the record was found.
    body = {"birth_date": "1991-01-01"}
    response = api.patch(f"/v1/customers/{customer_id}", *SUPPORT, json=body)
    assert response.status_code == 422, response.text
    seq = newest_entry(api.store)["seq"]

    report = api.get(f"/v1/customers/{customer_id}/access-report", *COMPLIANCE).json()["data"]

    (access,) = [a for a in report["accesses"] if a["seq"] == seq]
    assert (access["outcome"], access["status"]) == ("invalid", 422)
    assert access["fields"] == {}
    assert access["requested"] == ["birth_date"]


def test_given_erased_customer_then_access_report_still_lists_who_processed_the_data(
    api: Api,
) -> None:
    customer_id = new_customer(api)
    shown = read(api, customer_id, SUPPORT)
    erased = api.delete(f"/v1/customers/{customer_id}", "compliance-officer", "erasure")
    assert erased.status_code == 200, erased.text

    response = api.get(f"/v1/customers/{customer_id}/access-report", *COMPLIANCE)

    assert response.status_code == 200
    report = response.json()["data"]
    assert report["erased"] is True
    actions = {access["seq"]: access["action"] for access in report["accesses"]}
    assert actions[shown["audit_id"]] == "customers.read"
    assert "customers.erase" in actions.values()


# --- caller input is not personal data's way into the log --------------------------------


def _unused_phone(api: Api) -> str:
    values = personal_values(api.store)
    # Shaped like a phone number, but no one's: the log must not learn it either way.
    return next(f"139{n:08d}" for n in range(10**8) if f"139{n:08d}" not in values)


def subject_rows(store: Store, subject: str) -> int:
    query = "SELECT count(*) FROM audit_subjects WHERE subject_id = :s"
    return int(store.sql(query, {"s": subject})[0][0])


def audited_request(api: Api, route: str, customer_id: str) -> dict[str, Any]:
    """Make the request `route` names about `customer_id`; its own audit entry."""
    if route == "access-report":
        response = api.get(f"/v1/customers/{customer_id}/access-report", *COMPLIANCE)
        action = "customers.access_report"
    elif route == "events-filter":
        params = {"customer_id": customer_id}
        response = api.get("/v1/audit/events", *COMPLIANCE, params=params)
        action = "audit.events.list"
    else:
        response = api.get(f"/v1/customers/{customer_id}/orders", *SUPPORT)
        action = "orders.list"
    entry = newest_entry(api.store)
    assert entry["action"] == action
    entry["http_status"] = response.status_code
    return entry


ROUTES = ["access-report", "events-filter", "orders"]


@pytest.mark.parametrize("route", ROUTES)
def test_given_id_that_names_no_customer_then_it_is_not_recorded_as_a_subject(
    api: Api, route: str
) -> None:
    typed = _unused_phone(api)

    entry = audited_request(api, route, typed)

    assert entry["http_status"] == (200 if route == "events-filter" else 404)
    assert _json(entry["subject_ids"]) == []
    assert subject_rows(api.store, typed) == 0


@pytest.mark.parametrize("route", ROUTES)
def test_given_id_of_a_customer_then_the_entry_names_that_subject(api: Api, route: str) -> None:
    customer_id = live_customer(api, readable_by=SUPPORT)
    before = subject_rows(api.store, customer_id)

    entry = audited_request(api, route, customer_id)

    assert entry["http_status"] == 200
    assert _json(entry["subject_ids"]) == [customer_id]
    assert subject_rows(api.store, customer_id) == before + 1
