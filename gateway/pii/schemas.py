"""The scan body, declared for the OpenAPI document (`gateway.pii.scan_text` checks it)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class ScanText(msgspec.Struct, forbid_unknown_fields=True):
    """A text to scan; or send the text itself as `text/plain` (with `?language=`)."""

    text: Annotated[
        str,
        Meta(
            description="UTF-8 text, at most the gateway's scan limit in bytes "
            "(WARDGATE_SCAN_MAX_BYTES, 65536 by default).",
            examples=["请联系张伟，电话13800138000"],
        ),
    ]
    language: (
        Annotated[Literal["zh", "en"], Meta(description="Detect one language only.")] | None
    ) = None
