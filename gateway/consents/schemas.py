"""The consent grant body, declared for the OpenAPI document.

`POST /v1/customers/{id}/consents` reads the body as bytes and checks every field
itself (`gateway.consents.service`), naming every bad field in one 422; this Struct
states the same contract for clients. A test keeps its fields equal to the ones the
service accepts.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from policies.consent import SeparateScope

_WORD = r"^[A-Za-z0-9._:-]{1,64}$"
MAX_EVIDENCE = 4096


class GuardianRef(msgspec.Struct):
    """The guardian who consented for a minor, by a reference of the caller's."""

    ref: Annotated[str, Meta(pattern=_WORD, description="The guardian's reference.")]


class ConsentGrant(msgspec.Struct, forbid_unknown_fields=True):
    """A consent given by the customer (or, for a minor under 14, by a guardian)."""

    purpose: Annotated[
        str,
        Meta(pattern=_WORD, description="A purpose the policy declares.", examples=["marketing"]),
    ]
    channel: Annotated[
        str,
        Meta(
            pattern=_WORD,
            description="Where the consent was captured; a role entitled to one purpose "
            "records only its own channel (its principal id).",
        ),
    ]
    notice_version: Annotated[
        str, Meta(pattern=_WORD, description="The version of the privacy notice shown.")
    ]
    evidence: (
        Annotated[
            str,
            Meta(
                max_length=MAX_EVIDENCE,
                description="Evidence of the consent; only its SHA-256 is stored.",
            ),
        ]
        | None
    ) = None
    expires_at: (
        Annotated[
            str,
            Meta(
                description="When the consent lapses: an ISO 8601 time with a timezone, "
                "in the future.",
                examples=["2030-01-01T00:00:00+08:00"],
            ),
        ]
        | None
    ) = None
    separate: Annotated[
        list[SeparateScope],
        Meta(description="Separate consents given with it (PIPL Art. 23, 25, 29, 39)."),
    ] = msgspec.field(default_factory=list)
    guardian: (
        Annotated[
            Annotated[str, Meta(pattern=_WORD)] | GuardianRef,
            Meta(
                description='The consenting guardian (a reference, or `{"ref": ...}`); '
                "required when the customer is under 14."
            ),
        ]
        | None
    ) = None
