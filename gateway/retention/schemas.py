"""Bodies of the legal hold API, for clients and the OpenAPI document (the use case
validates every field itself, naming each bad one)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from gateway.retention.holds import HOLD_REASONS, MAX_NOTE, RELEASE_REASONS

_Note = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTE)]


class HoldSet(msgspec.Struct):
    """Set a legal hold."""

    reason: Annotated[str, msgspec.Meta(description="One of: " + ", ".join(HOLD_REASONS))]
    note: Annotated[_Note, msgspec.Meta(description="Why, for the record (never audited)")]


class HoldRelease(msgspec.Struct):
    """Release the active legal hold."""

    reason: Annotated[str, msgspec.Meta(description="One of: " + ", ".join(RELEASE_REASONS))]
    note: _Note | None = None
