"""Encryption at rest for the customer store: what is written is ciphertext, what is
read is decrypted only for the fields the caller will see.

A record's encrypted fields are sealed under its owner's data key (the customer's own
for a customer, the parent customer's for interactions and orders), so erasing one
key makes everything about that person unreadable. Blind-indexed fields also get a
keyed MAC of their normalized value for exact lookups.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import structlog

from gateway.db.schema import blind_index_column
from keys import (
    UNREADABLE,
    BlindIndexer,
    DataKey,
    FieldCipher,
    FieldContext,
    KeyStore,
    SealedField,
    aad_prefix,
    sealed_fields,
    tag_version,
)
from policies.catalog import Catalog, Entity

alert_log = structlog.get_logger("wardgate.integrity")

# How a blind-indexed value is normalized before MACing, by write format: the same
# person typed differently must index the same.
_NORMALIZE = {
    "cn_mobile": lambda value: "".join(ch for ch in value if ch.isdigit())[-11:],
    "email": str.lower,
    "cn_resident_id": str.upper,
}


@dataclass(slots=True)
class Revealed:
    rows: list[dict[str, object]]
    failures: list[tuple[str, str]] = field(default_factory=list)  # (record id, field)


def owner_of(entity: Entity, row: Mapping[str, object]) -> str:
    return str(row["id"] if entity.parent is None else row["customer_id"])


@cache
def _encrypted(entity: Entity) -> frozenset[str]:
    return frozenset(spec.name for spec in entity.fields if spec.encrypted)


class Protector:
    def __init__(
        self, catalog: Catalog, cipher: FieldCipher, indexer: BlindIndexer, keystore: KeyStore
    ) -> None:
        self.catalog = catalog
        self.cipher = cipher
        self.indexer = indexer
        self.keystore = keystore

    def __repr__(self) -> str:
        return "Protector()"

    def blind_index(self, entity: str, field_name: str, value: str) -> str:
        spec = self.catalog.entity(entity).field(field_name)
        normalized = _NORMALIZE.get(spec.format, str)(value)
        return self.indexer.index(spec.qualified_name, normalized)

    def protect(
        self, entity_name: str, values: Mapping[str, object], record_id: str, key: DataKey
    ) -> dict[str, object]:
        """Column values to store for `values`: ciphertext and blind indexes, never plaintext."""
        entity = self.catalog.entity(entity_name)
        encrypted = _encrypted(entity)
        stored: dict[str, object] = {}
        for name, value in values.items():
            spec = entity.field(name) if name in entity.field_names else None
            if spec is None or value is None or name not in encrypted:
                stored[name] = value
                continue
            text = value if isinstance(value, str) else str(value)
            stored[name] = self.cipher.encrypt(
                key, FieldContext(entity_name, name, record_id), text
            )
            if spec.blind_index:
                stored[blind_index_column(name)] = self.blind_index(entity_name, name, text)
        for name in values:
            spec = entity.field(name) if name in entity.field_names else None
            if spec is not None and spec.blind_index and values[name] is None:
                stored[blind_index_column(name)] = None
        return stored

    async def reveal(
        self, entity_name: str, rows: Sequence[Mapping[Any, Any]], fields: Iterable[str]
    ) -> Revealed:
        """Decrypt `fields` of `rows` (and nothing else); undecryptable fields are dropped."""
        page = await self.sealed_page(entity_name, copy_rows(rows), fields)
        return Revealed(page.rows, page.open_all())

    async def sealed_page(
        self, entity_name: str, plain: list[dict[str, object]], fields: Iterable[str]
    ) -> SealedPage:
        """The ciphertexts of `fields` in `plain` decoded and the keys that open them
        fetched, so a caller can open each record's fields only once it knows which
        will be shown (`SealedPage.open_rest`); nothing is decrypted here."""
        entity = self.catalog.entity(entity_name)
        encrypted = _encrypted(entity)
        wanted = [
            (name, aad_prefix(entity_name, name))
            for name in dict.fromkeys(fields)
            if name in encrypted
        ]
        # Decode every token once and group each record's fields by the key they name
        # (one, but for a rotation caught midway); gather the keys the page needs: one
        # key store round trip for the whole page at most, none while they are cached.
        records: list[_SealedRecord | None] = []
        needed: set[tuple[str, int]] = set()
        if wanted:
            for row in plain:
                by_key = sealed_fields(row, wanted)
                if by_key:
                    owner = owner_of(entity, row)
                    records.append((row, str(row["id"]), owner, by_key))
                    needed.update((owner, tag_version(tag)) for tag in by_key if tag != UNREADABLE)
                else:
                    records.append(None)
        keys = await self.keystore.keys_for(needed) if needed else {}
        return SealedPage(entity_name, plain, records, keys, self.cipher)


def copy_rows(rows: Sequence[Mapping[Any, Any]]) -> list[dict[str, object]]:
    """Rows as dicts the pipeline may change (decrypted values replace ciphertexts)."""
    # dict(row.items()): a SQLAlchemy RowMapping copies in half the time of dict(row).
    return [dict(row.items()) for row in rows]


# A record's row, id, owner, and its sealed fields not opened yet, by key tag.
_SealedRecord = tuple[dict[str, object], str, str, dict[bytes, list[SealedField]]]


class SealedPage:
    """A page whose ciphertexts are decoded and keys fetched, opened record by record.

    A record's fields are opened at most once (`open_rest`), so none is decrypted
    twice; a field never opened keeps its ciphertext in the row, and the caller drops
    it (it is withheld) before anything is rendered. A field that fails to open is
    deleted from its row, logged, and returned with its record id."""

    __slots__ = ("_cipher", "_entity", "_keys", "_records", "rows")

    def __init__(
        self,
        entity_name: str,
        rows: list[dict[str, object]],
        records: list[_SealedRecord | None],
        keys: Mapping[tuple[str, int], DataKey],
        cipher: FieldCipher,
    ) -> None:
        self._entity = entity_name
        self.rows = rows
        self._records = records
        self._keys = keys
        self._cipher = cipher

    def open_all(self) -> list[tuple[str, str]]:
        """Open every sealed field of every record; the (record id, field) that failed."""
        failures: list[tuple[str, str]] = []
        for record in self._records:
            if record is not None:
                self._open(record, record[3], failures)
        return failures

    def open_rest(self, index: int, skip: Container[str] = ()) -> list[tuple[str, str]]:
        """Open the fields of record `index` not opened yet, but for those in `skip`
        (withheld: never decrypted); the (record id, field) that failed."""
        failures: list[tuple[str, str]] = []
        record = self._records[index] if self._records else None
        if record is None:
            return failures
        by_key = record[3]
        if skip:
            by_key = {
                tag: [item for item in sealed if item[0] not in skip]
                for tag, sealed in by_key.items()
            }
        self._open(record, by_key, failures)
        record[3].clear()
        return failures

    def _open(
        self,
        record: _SealedRecord,
        by_key: Mapping[bytes, list[SealedField]],
        failures: list[tuple[str, str]],
    ) -> None:
        row, record_id, owner, _ = record
        for tag, sealed in by_key.items():
            if not sealed:
                continue
            key = None if tag == UNREADABLE else self._keys.get((owner, tag_version(tag)))
            if key is None:
                failed = [name for name, _, _ in sealed]
                for name in failed:
                    del row[name]
            else:
                failed = self._cipher.open_record(key, record_id, sealed, row)
            for name in failed:
                failures.append((record_id, name))
                alert_log.error(
                    "ciphertext failed its integrity check; field withheld",
                    entity=self._entity,
                    field=name,
                    record_id=record_id,
                )
