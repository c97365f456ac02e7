"""Bodies of the approval endpoints (msgspec Structs, documented in OpenAPI)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

MAX_EXPORT_RECORDS = 1_000_000

Reason = Annotated[str, Meta(min_length=1, max_length=500, description="Why, in words.")]


class Scope(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly what will be read: a token opens this scope and no other."""

    entity: Annotated[str, Meta(description="customers, orders or interactions")]
    fields: Annotated[
        list[Annotated[str, Meta(max_length=64)]],
        Meta(
            min_length=1,
            max_length=64,
            description="The fields the read shows (its governance block lists them).",
        ),
    ]
    max_records: Annotated[int, Meta(ge=1, le=MAX_EXPORT_RECORDS)]
    filter: dict[Annotated[str, Meta(max_length=64)], Annotated[str, Meta(max_length=128)]] = (
        msgspec.field(default_factory=dict)
    )


class ExportRequestBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    scope: Scope


class DecisionBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
