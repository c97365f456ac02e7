"""The scope of an export, and its hash: what a token is bound to.

A scope is the entity, the fields shown (sorted), the filter (the record or customer
the read is confined to, or the lookup field; empty for a plain listing) and the most
records the export may return. Its hash is SHA-256 over the RFC 8785 canonical JSON,
so the same scope always hashes alike, whichever order its parts were written in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import rfc8785


@dataclass(frozen=True, slots=True)
class ExportScope:
    entity: str
    fields: tuple[str, ...]
    filter: Mapping[str, str]
    max_records: int

    @classmethod
    def of(
        cls, entity: str, fields: Iterable[str], filter_: Mapping[str, str], max_records: int
    ) -> ExportScope:
        return cls(entity, tuple(sorted(set(fields))), dict(sorted(filter_.items())), max_records)

    def to_json(self) -> dict[str, object]:
        return {
            "entity": self.entity,
            "fields": list(self.fields),
            "filter": dict(self.filter),
            "max_records": self.max_records,
        }

    @property
    def digest(self) -> str:
        return hashlib.sha256(rfc8785.dumps(self.to_json())).hexdigest()  # type: ignore[arg-type]
