"""The records an aggregate is computed over: two queries at most (the customers with
their consent histories, and the related records), decrypted only for the age band.

Only live customers whose consent for the purpose holds are counted (the same consent
rules as every governed read, minors included); the records of the others are left
out. Each record carries its owner, its dimension values and its measured numbers,
clamped into the catalog's bounds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from gateway.aggregates.dimensions import TIME_FIELD, age_band
from gateway.aggregates.schemas import DimensionName, Source
from gateway.consents.store import CONSENT_COLUMN, consent_history_column
from gateway.customers import age
from gateway.db.schema import store_tables
from gateway.governance import consent_gate as gate
from gateway.governance.call import GovernedCall

_CUSTOMER_DIMENSIONS = {
    DimensionName.REGION: "region",
    DimensionName.TIER: "tier",
    DimensionName.AGE_BAND: "birth_date",
}


@dataclass(frozen=True, slots=True)
class Record:
    owner: str
    dims: Mapping[DimensionName, str]
    values: Mapping[str, float]
    """Measured fields, clamped; a record without a value for a field has no entry."""


def _number(raw: object) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return float(str(raw))
    except ValueError:
        return None


def _clamped(entity_name: str, name: str, raw: object, call: GovernedCall) -> float | None:
    value = _number(raw)
    bounds = call.state.catalog.entity(entity_name).field(name).aggregate
    if value is None or bounds is None:
        return None
    return min(max(value, bounds.low), bounds.high)


async def _customers(
    call: GovernedCall, wanted: Collection[DimensionName], measured: Collection[str]
) -> dict[str, dict[str, Any]]:
    """Live, consenting customers by id: their dimension values and measured fields."""
    table = store_tables()["customers"]
    dialect = "sqlite" if call.state.db.is_sqlite else "postgresql"
    columns = ["id", "region", "tier", *age.AGE_FIELDS, *measured]
    query = (
        select(*(table.c[name] for name in dict.fromkeys(columns)))
        .add_columns(consent_history_column(table.c.id, dialect))
        .where(table.c.erased_at.is_(None))
    )
    async with call.state.db.reader.connect() as conn:
        rows = (await conn.execute(query, {"consent_purpose": call.purpose.id})).all()
    mappings = [row._mapping for row in rows]
    ages = await age.reveal_ages(call.state.protector, mappings)
    today = dt.datetime.now(dt.UTC).date()
    used = tuple(_CUSTOMER_DIMENSIONS[d] for d in wanted if d in _CUSTOMER_DIMENSIONS)
    fields = gate.consent_fields(call.state.catalog.entity("customers"), used)
    decided = gate.decide_histories(
        call,
        {
            str(row["id"]): (ages[str(row["id"])].minor_on(today), row[CONSENT_COLUMN])
            for row in mappings
        },
        fields,
    )
    kept: dict[str, dict[str, Any]] = {}
    for row in mappings:
        owner = str(row["id"])
        decision = decided.record(owner)
        if decision.withheld_reason is not None or decision.field_reasons:
            continue
        dims: dict[DimensionName, str] = {
            DimensionName.REGION: str(row["region"] or "unknown"),
            DimensionName.TIER: str(row["tier"] or "unknown"),
            DimensionName.AGE_BAND: age_band(ages[owner], today),
        }
        kept[owner] = {"dims": dims, "row": row}
    return kept


async def load_records(
    call: GovernedCall,
    source: Source,
    wanted: Collection[DimensionName],
    measured: Collection[str],
) -> list[Record]:
    """Every countable record of `source`, with the dimensions and fields asked for."""
    if source is Source.CUSTOMERS:
        customers = await _customers(call, wanted, measured)
        return [
            Record(
                owner,
                found["dims"],
                {
                    name: value
                    for name in measured
                    if (value := _clamped("customers", name, found["row"][name], call)) is not None
                },
            )
            for owner, found in customers.items()
        ]
    customers = await _customers(call, wanted, ())
    table = store_tables()[source.value]
    time_field = TIME_FIELD[source]
    columns = ["id", "customer_id", time_field, "channel", *measured]
    query = select(*(table.c[name] for name in dict.fromkeys(columns))).order_by(table.c.id)
    async with call.state.db.reader.connect() as conn:
        rows = (await conn.execute(query)).all()
    records: list[Record] = []
    for row in rows:
        owner = str(row.customer_id)
        found = customers.get(owner)
        if found is None:
            continue  # erased, or no consent for this purpose: not counted
        when = str(getattr(row, time_field) or "")
        dims = dict(found["dims"])
        dims[DimensionName.MONTH] = when[:7] if len(when) >= 7 else "unknown"
        dims[DimensionName.CHANNEL] = str(row.channel or "unknown")
        values = {
            name: value
            for name in measured
            if (value := _clamped(source.value, name, getattr(row, name), call)) is not None
        }
        records.append(Record(owner, dims, values))
    return records
