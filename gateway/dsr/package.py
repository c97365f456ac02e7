"""The access / portability package (PIPL Art. 45): the person's own data in clear —
their customer record, interactions, orders, consent history — and the access report
(who processed it, when, for which purpose, which fields).

Its shape is documented by `package.schema.json` next to this module. The package is
stored encrypted under the customer's data key, so erasing the customer shreds it too.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.compliance.reads import access_entries
from gateway.db.schema import consents, store_tables
from gateway.encryption.protection import Protector
from keys import DataKey, FieldContext

FORMAT = "wardgate.dsr.package/1"
PACKAGE_CONTEXT = ("dsr_requests", "package")
"""Entity and field bound into the package's ciphertext (with the request id)."""

Json = dict[str, Any]


@cache
def package_schema() -> Json:
    text = resources.files("gateway.dsr").joinpath("package.schema.json").read_text("utf-8")
    schema: Json = json.loads(text)
    return schema


async def _revealed(
    conn: AsyncConnection, protector: Protector, entity: str, customer_id: str
) -> list[Json]:
    table = store_tables()[entity]
    column = table.c.id if entity == "customers" else table.c.customer_id
    rows = (
        await conn.execute(select(table).where(column == customer_id).order_by(table.c.id))
    ).all()
    fields = protector.catalog.entity(entity).field_names
    revealed = await protector.reveal(entity, [row._mapping for row in rows], fields)
    return [{name: row.get(name) for name in fields} for row in revealed.rows]


async def _consent_history(conn: AsyncConnection, customer_id: str) -> list[Json]:
    query = (
        select(consents)
        .where(consents.c.customer_id == customer_id)
        .order_by(consents.c.at, consents.c.id)
    )
    return [
        {
            "purpose": row.purpose,
            "kind": row.kind,
            "at": row.at,
            "channel": row.channel,
            "notice_version": row.notice_version,
            "expires_at": row.expires_at,
            "separate": sorted(row.separate or []),
        }
        for row in (await conn.execute(query)).all()
    ]


async def build_access_package(conn: AsyncConnection, protector: Protector, request: Any) -> Json:
    customer_id = str(request.customer_id)
    records = await _revealed(conn, protector, "customers", customer_id)
    return {
        "format": FORMAT,
        "request": {
            "id": request.id,
            "type": request.type,
            "customer_id": customer_id,
            "received_at": request.received_at,
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        "customer": records[0] if records else {},
        "interactions": await _revealed(conn, protector, "interactions", customer_id),
        "orders": await _revealed(conn, protector, "orders", customer_id),
        "consents": await _consent_history(conn, customer_id),
        "access_report": await access_entries(conn, customer_id),
    }


def seal(protector: Protector, key: DataKey, dsr_id: str, package: Json) -> str:
    entity, field = PACKAGE_CONTEXT
    text = orjson.dumps(package).decode()
    return protector.cipher.encrypt(key, FieldContext(entity, field, dsr_id), text)


def open_sealed(protector: Protector, key: DataKey, dsr_id: str, sealed: str) -> Json:
    entity, field = PACKAGE_CONTEXT
    text = protector.cipher.decrypt(key, FieldContext(entity, field, dsr_id), sealed)
    package: Json = orjson.loads(text)
    return package
