"""The policy change service on real stores: versions, diffs, conflicts, rollback, audit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from audit.schema import audit_events
from gateway.compliance.entries import cli_audit
from gateway.db.engine import Database, create_database
from gateway.db.init_store import init_store
from gateway.db.schema import policy_versions
from gateway.policy.change_service import apply_policy_change, rollback_policy
from gateway.policy.errors import (
    NoChange,
    PolicyChangeRejected,
    VersionConflict,
)
from gateway.settings import Settings
from gateway.state import load_snapshot
from policies.catalog import default_catalog
from policies.document import PolicyDocument, Rule, RuleEffect

T = TypeVar("T")
PHONE_MASK = Rule("marketing", "marketing", "contact.phone", "read:mask")
PHONE_DENY = Rule("marketing", "marketing", "contact.phone", "*", RuleEffect.DENY)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A fresh store with the default policy and the demo principals, no customers."""
    settings = Settings(data_dir=tmp_path, log_json=True)
    if request.param == "postgres":
        make = request.getfixturevalue("postgres_url_factory")
        settings = settings.with_overrides(database_url=make(), keystore_url=make())
    asyncio.run(init_store(settings, demo=True, customers=0))
    return settings


def run(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def main() -> T:
        db = create_database(settings)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def deny_phone(document: PolicyDocument) -> PolicyDocument:
    return replace(
        document, rules=tuple(PHONE_DENY if r == PHONE_MASK else r for r in document.rules)
    )


async def versions(db: Database) -> list[Any]:
    async with db.reader.connect() as conn:
        return list((await conn.execute(select(policy_versions).order_by("version"))).all())


async def audit_rows(db: Database) -> list[Any]:
    async with db.reader.connect() as conn:
        return list((await conn.execute(select(audit_events).order_by("seq"))).all())


def test_given_an_edit_then_a_new_version_with_author_comment_diff_and_audit_entry(
    settings: Settings,
) -> None:
    async def work(db: Database) -> tuple[Any, list[Any], list[Any]]:
        applied = await apply_policy_change(
            db,
            default_catalog(),
            change=deny_phone,
            base_version=1,
            author="alice",
            comment="marketing stops seeing phones",
            audit=cli_audit("policy.apply"),
        )
        return applied, await versions(db), await audit_rows(db)

    applied, rows, entries = run(settings, work)

    assert applied.version == 2
    assert applied.base_version == 1
    assert [r.version for r in rows] == [1, 2]
    assert (rows[1].author, rows[1].comment) == ("alice", "marketing stops seeing phones")
    assert rows[1].diff == applied.diff.to_json()
    assert applied.diff.rules.added == (tuple(PHONE_DENY.as_casbin()),)
    (entry,) = [e for e in entries if e.action == "policy.apply"]
    assert entry.seq == applied.audit_seq
    assert entry.record_ids == ["policy_v2"]
    assert entry.subject_ids == []
    assert entry.fields == {
        "policy:version": "1 -> 2",
        "rule:marketing|marketing|contact.phone|*|deny": "added",
        "rule:marketing|marketing|contact.phone|read:mask|allow": "removed",
    }


def test_given_an_invalid_change_then_every_problem_is_named_and_nothing_is_stored(
    settings: Settings,
) -> None:
    def bad(document: PolicyDocument) -> PolicyDocument:
        return replace(
            document,
            rules=(
                *document.rules,
                Rule("ghost", "marketing", "contact.phone", "read:clear"),
                Rule("marketing", "marketing", "contact.fax", "read:mask:scramble"),
            ),
        )

    async def work(db: Database) -> tuple[PolicyChangeRejected, int, int]:
        before = len(await audit_rows(db))
        with pytest.raises(PolicyChangeRejected) as caught:
            await apply_policy_change(
                db,
                default_catalog(),
                change=bad,
                base_version=None,
                author="alice",
                comment="",
                audit=cli_audit("policy.apply"),
            )
        return caught.value, len(await versions(db)), len(await audit_rows(db)) - before

    rejected, count, new_entries = run(settings, work)

    assert sorted(p.reason for p in rejected.problems) == [
        "unknown_category",
        "unknown_operator",
        "unknown_role",
    ]
    assert count == 1
    assert new_entries == 0


def test_given_a_stale_base_version_then_version_conflict_and_nothing_is_stored(
    settings: Settings,
) -> None:
    async def work(db: Database) -> tuple[VersionConflict, int]:
        audit = cli_audit("policy.apply")
        catalog = default_catalog()
        await apply_policy_change(
            db, catalog, change=deny_phone, base_version=1, author="a", comment="", audit=audit
        )
        with pytest.raises(VersionConflict) as caught:
            await apply_policy_change(
                db,
                catalog,
                change=lambda d: replace(d, roles={**d.roles, "auditor": ""}),
                base_version=1,
                author="b",
                comment="",
                audit=cli_audit("policy.apply"),
            )
        return caught.value, len(await versions(db))

    conflict, count = run(settings, work)

    assert (conflict.base_version, conflict.latest) == (1, 2)
    assert count == 2


def test_given_two_concurrent_changes_on_one_base_then_exactly_one_wins(
    settings: Settings,
) -> None:
    async def change(db: Database, role: str) -> object:
        try:
            return await apply_policy_change(
                db,
                default_catalog(),
                change=lambda d: replace(d, roles={**d.roles, role: ""}),
                base_version=1,
                author=role,
                comment="",
                audit=cli_audit("policy.apply"),
            )
        except VersionConflict as exc:
            return exc

    async def work(db: Database) -> tuple[list[object], int]:
        results = await asyncio.gather(change(db, "auditor_a"), change(db, "auditor_b"))
        return list(results), len(await versions(db))

    results, count = run(settings, work)

    assert sorted(type(r).__name__ for r in results) == ["AppliedChange", "VersionConflict"]
    assert count == 2


def test_given_rollback_then_the_new_version_equals_the_old_one_and_is_audited(
    settings: Settings,
) -> None:
    async def work(db: Database) -> tuple[list[Any], Any]:
        catalog = default_catalog()
        await apply_policy_change(
            db,
            catalog,
            change=deny_phone,
            base_version=1,
            author="a",
            comment="",
            audit=cli_audit("x"),
        )
        rolled = await rollback_policy(
            db,
            catalog,
            version=1,
            base_version=2,
            author="b",
            comment="",
            audit=cli_audit("policy.rollback"),
        )
        snapshot = await load_snapshot(db, catalog)
        assert snapshot.version == rolled.version
        return await versions(db), rolled

    rows, rolled = run(settings, work)

    assert rolled.version == 3
    assert json.dumps(rows[2].document, sort_keys=True) == json.dumps(
        rows[0].document, sort_keys=True
    )
    assert rows[2].comment == "rollback to version 1"
    assert rolled.diff.rules.added == (tuple(PHONE_MASK.as_casbin()),)


def test_given_a_change_that_changes_nothing_then_no_version_is_created(
    settings: Settings,
) -> None:
    async def work(db: Database) -> int:
        with pytest.raises(NoChange):
            await apply_policy_change(
                db,
                default_catalog(),
                change=lambda d: d,
                base_version=None,
                author="a",
                comment="",
                audit=cli_audit("policy.apply"),
            )
        return len(await versions(db))

    assert run(settings, work) == 1
