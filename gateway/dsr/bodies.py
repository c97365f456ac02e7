"""Request bodies of the DSR API: declared for clients (msgspec Structs) and checked
field by field here, so one 422 names every bad field with its own reason."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated, Any

import msgspec

from gateway.dsr.machine import RefusalReason, RequestType, VerificationMethod
from gateway.http.errors import FieldProblem, Unprocessable
from gateway.http.json_body import RequestBody, parse_json_object

MAX_TEXT = 2000
MAX_EXTENSION_DAYS = 30

# What `text_field` accepts, stated for clients and fuzzers: at least one character that
# is not white space, at most MAX_TEXT characters.
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT, pattern=r"\S")]
ExtensionDays = Annotated[int, msgspec.Meta(ge=1, le=MAX_EXTENSION_DAYS)]


class FileRequest(msgspec.Struct, forbid_unknown_fields=True):
    """File a data subject's request."""

    customer_id: Annotated[str, msgspec.Meta(min_length=1, pattern=r"\S")]
    type: RequestType
    """access, portability, correction, deletion or explanation."""
    changes: dict[str, Any] | None = None
    """correction only: the fields to correct and their new values (validated as
    PATCH /v1/customers/{id} validates them, when the request is fulfilled)."""


class VerifyRequest(msgspec.Struct, forbid_unknown_fields=True):
    method: VerificationMethod
    """id_document, phone_otp, account_login or in_person."""
    evidence: Text
    """What proved the identity (a document number, a ticket id): only its SHA-256 is kept."""


class RefuseRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: RefusalReason
    """A stable reason word (identity_not_verified, not_the_subject, manifestly_unfounded,
    excessive, legal_hold, legal_obligation, other)."""
    text: Text
    """The explanation given to the person (PIPL Art. 50)."""


class ExtendRequest(msgspec.Struct, forbid_unknown_fields=True):
    days: ExtensionDays
    """Working days added to the due date (1-30)."""
    reason: Text
    """Why the request needs longer."""


def parse_fields(
    body: RequestBody, known: Collection[str], *, required: Collection[str] = ()
) -> dict[str, Any]:
    """The body's object, with unknown and missing fields named in one 422."""
    document = parse_json_object(body)
    problems = [FieldProblem(name, "unknown_field") for name in document if name not in known]
    problems += [
        FieldProblem(name, "required") for name in required if document.get(name) in (None, "")
    ]
    if problems:
        reject(problems)
    return document


def reject(problems: list[FieldProblem]) -> None:
    names = ", ".join(p.field for p in problems)
    msg = f"invalid fields: {names}"
    raise Unprocessable(msg, reason=problems[0].reason, errors=tuple(problems))


def text_field(document: Mapping[str, Any], name: str) -> str:
    """A trimmed non-empty string of at most MAX_TEXT characters, else a problem."""
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        reject([FieldProblem(name, "required")])
    assert isinstance(value, str)  # noqa: S101 - reject raised otherwise
    if len(value) > MAX_TEXT:
        reject([FieldProblem(name, "too_long")])
    return value.strip()
