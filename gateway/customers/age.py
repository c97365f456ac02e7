"""A stored customer's age, for the consent rules of every door (PIPL Art. 31).

Age comes from the decrypted birth date, else the resident ID number; the rule itself
is `policies.consent.age_of`. A field among these that fails to decrypt makes the age
unreadable, and an unreadable age counts as a minor's: the API, the importers, the
explanations and the demo seeder all decide through here or through `age_of`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from gateway.encryption.protection import Protector, Revealed
from policies.consent import Age, age_of

AGE_FIELDS = ("birth_date", "id_number")
"""The fields whose plaintext tells a customer's age."""


def age_in(plain: Mapping[str, object], *, unreadable: bool = False) -> Age:
    return age_of(plain.get("birth_date"), plain.get("id_number"), unreadable=unreadable)


def unreadable_ages(failures: Collection[tuple[str, str]]) -> set[str]:
    """Record ids among `failures` (record id, field) whose age fields failed to decrypt."""
    return {record_id for record_id, name in failures if name in AGE_FIELDS}


def ages_of(revealed: Revealed) -> dict[str, Age]:
    """Each revealed customer's age, by id (the rows were revealed with AGE_FIELDS)."""
    unreadable = unreadable_ages(revealed.failures)
    return {
        str(row["id"]): age_in(row, unreadable=str(row["id"]) in unreadable)
        for row in revealed.rows
    }


async def reveal_ages(protector: Protector, rows: Sequence[Mapping[Any, Any]]) -> dict[str, Age]:
    """Decrypt only the age fields of customer `rows` (id and AGE_FIELDS columns)."""
    return ages_of(await protector.reveal("customers", rows, AGE_FIELDS))


async def reveal_with_ages(
    protector: Protector, rows: Sequence[Mapping[Any, Any]], fields: Collection[str]
) -> tuple[Revealed, dict[str, Age]]:
    """Decrypt `fields` of customer `rows` and what tells their ages, least first: the
    birth date, and the ID number only where the birth date is missing or unreadable.

    The revealed rows keep the age fields (callers drop those they do not show); the
    failures are those of `fields` and the birth date.
    """
    revealed = await protector.reveal("customers", rows, (*fields, "birth_date"))
    unreadable = unreadable_ages(revealed.failures)
    # Shown, the ID number is decrypted already (or its failure is among the failures):
    # decrypting it again for the rows without a birth date would only cost.
    missing = (
        []
        if "id_number" in fields
        else [i for i, plain in enumerate(revealed.rows) if not plain.get("birth_date")]
    )
    if missing:
        extra = await protector.reveal("customers", [rows[i] for i in missing], ("id_number",))
        for index, plain in zip(missing, extra.rows, strict=True):
            if "id_number" in plain:
                revealed.rows[index]["id_number"] = plain["id_number"]
        unreadable |= unreadable_ages(extra.failures)
    ages = {
        str(row["id"]): age_in(row, unreadable=str(row["id"]) in unreadable)
        for row in revealed.rows
    }
    return revealed, ages
