"""One age rule at every door (PIPL Art. 31): a customer whose birth data cannot be read
counts as a minor — at the consent API, in the consent import and in the consent facts
that explanations and `policy test` use — on SQLite and PostgreSQL, under both suites."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

from gateway.bulk.report import ImportProblem
from gateway.consents.facts import customer_consent_facts
from gateway.consents.importer import ConsentImportReport, import_consents
from gateway.db.engine import create_database
from gateway.db.opening import open_protector
from tests.helpers.api import Api
from tests.helpers.synthetic_values import bank_card, resident_id

MARKETING = ("marketing-app", "marketing")
SUPPORT = ("support-desk", "customer_service")
ADULT_BIRTH = dt.date(1985, 7, 4)


def new_adult(api: Api) -> str:
    body = {
        "name": "欧阳测试",
        "id_number": resident_id(ADULT_BIRTH),
        "birth_date": ADULT_BIRTH.isoformat(),
        "bank_card": bank_card(),
        "region": "浙江省",
    }
    response = api.post("/v1/customers", *SUPPORT, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def make_unreadable(api: Api, customer_id: str, *fields: str) -> None:
    """Corrupt stored ciphertexts, as a bad disk or a hand-edited row would."""
    for name in fields:
        [(token,)] = api.store.sql(
            f"SELECT {name} FROM customers WHERE id = :id",  # noqa: S608 - fixed names
            {"id": customer_id},
        )
        spoiled = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        api.store.sql(
            f"UPDATE customers SET {name} = :v WHERE id = :id",  # noqa: S608 - fixed names
            {"v": spoiled, "id": customer_id},
        )


def api_grant(api: Api, customer_id: str, **more: Any) -> Any:
    body = {"purpose": "marketing", "channel": "marketing-app", "notice_version": "n-1"} | more
    return api.post(f"/v1/customers/{customer_id}/consents", *MARKETING, json=body)


def import_grant(api: Api, tmp_path: Path, customer_id: str, **more: Any) -> ConsentImportReport:
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    line = {
        "customer_id": customer_id,
        "purpose": "marketing",
        "at": at,
        "channel": "call-center",
        "notice_version": "n-1",
    } | more
    path = tmp_path / f"{customer_id}-{len(more)}.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    return asyncio.run(import_consents(api.store.settings, path))


def facts_say_minor(api: Api, customer_id: str) -> bool:
    async def run() -> bool:
        db = create_database(api.store.settings)
        try:
            protector = await open_protector(api.store.settings, db)
            return (await customer_consent_facts(db, protector, customer_id)).minor
        finally:
            await db.dispose()

    return asyncio.run(run())


def decisions(api: Api, tmp_path: Path, customer_id: str) -> tuple[str, str, bool]:
    """What each door decides for a guardian-less grant: API, import, explanation facts."""
    answer = api_grant(api, customer_id)
    if answer.status_code == 201:
        by_api = "granted"
    else:
        assert answer.status_code == 422, answer.text
        (problem,) = answer.json()["errors"]
        by_api = problem["reason"]
    report = import_grant(api, tmp_path, customer_id)
    by_import = "granted" if report.loaded == 1 else report.problems[0].reason
    if report.loaded == 0:
        assert report.problems == (ImportProblem(1, "guardian", "guardian_required"),)
    return by_api, by_import, facts_say_minor(api, customer_id)


def test_given_readable_adult_then_every_door_grants_without_a_guardian(
    own_api: Api, tmp_path: Path
) -> None:
    customer_id = new_adult(own_api)

    assert decisions(own_api, tmp_path, customer_id) == ("granted", "granted", False)


def test_given_undecryptable_birth_data_then_every_door_requires_a_guardian(
    own_api: Api, tmp_path: Path
) -> None:
    customer_id = new_adult(own_api)
    make_unreadable(own_api, customer_id, "birth_date", "id_number")

    assert decisions(own_api, tmp_path, customer_id) == (
        "guardian_required",
        "guardian_required",
        True,
    )
    # With a guardian's consent both doors record it.
    assert api_grant(own_api, customer_id, guardian={"ref": "guardian-01"}).status_code == 201
    assert import_grant(own_api, tmp_path, customer_id, guardian="guardian-02").loaded == 1


def test_given_undecryptable_birth_date_but_readable_id_number_then_its_age_counts(
    own_api: Api, tmp_path: Path
) -> None:
    """The age is still known from the resident ID: an adult at every door."""
    customer_id = new_adult(own_api)
    make_unreadable(own_api, customer_id, "birth_date")

    assert decisions(own_api, tmp_path, customer_id) == ("granted", "granted", False)
