"""Small seeded stores and probes for the policy reload tests: a rule to add, a store
on SQLite or PostgreSQL, and a read that shows which policy version served it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.settings import Settings
from policies.document import PolicyDocument, parse_policy_document
from tests.helpers.propagation import poll

CUSTOMERS = 5
CLEAR_PHONE = ["customer_service", "customer_service", "contact.phone", "read:clear"]


def seeded(settings: Settings) -> Settings:
    asyncio.run(init_store(settings, demo=True, customers=CUSTOMERS))
    return settings


def sqlite_store(tmp_path: Path) -> Settings:
    return seeded(Settings(data_dir=tmp_path / "data"))


def postgres_store(tmp_path: Path, make_database: Callable[[], str]) -> Settings:
    return seeded(
        Settings(
            data_dir=tmp_path / "data", database_url=make_database(), keystore_url=make_database()
        )
    )


def with_rule(document: PolicyDocument, rule: list[str]) -> PolicyDocument:
    raw = document.to_document()
    raw["rules"] = [rule, *raw["rules"]]
    return parse_policy_document(raw)


def customer_id(settings: Settings) -> str:
    async def run() -> str:
        db = create_database(settings)
        try:
            async with db.reader.connect() as conn:
                return str((await conn.execute(text("SELECT min(id) FROM customers"))).scalar())
        finally:
            await db.dispose()

    return asyncio.run(run())


def keys_of(settings: Settings) -> dict[str, str]:
    keys: dict[str, str] = json.loads((settings.data_dir / "demo-keys.json").read_text())
    return keys


def serving_version(
    client: httpx.Client, url: str, headers: dict[str, str], version: int
) -> Callable[[], dict[str, Any] | None]:
    """A probe: the read's body once its governance block names `version` (or later)."""

    def probe() -> dict[str, Any] | None:
        response = poll(client, url, headers)
        if response is None:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["governance"]["policy_version"] >= version else None

    return probe
