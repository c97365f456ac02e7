"""The customer write bodies, declared for the OpenAPI document.

`POST /v1/customers` and `PATCH /v1/customers/{id}` read the body as bytes and check
every field against the catalog (`gateway.customers.write`), so that one 422 names
every bad field with its own reason. These Structs state the same contract for
clients: the fields of the default catalog, their formats and bounds. A test keeps
them equal to the catalog's writable fields.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from policies.formats import (
    ADDRESS_MAX_CHARS,
    EMAIL_MAX_CHARS,
    NAME_MAX_CHARS,
    REGIONS,
    TEXT_MAX_CHARS,
    TIERS,
)

Name = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=NAME_MAX_CHARS,
        description="Full name, without control characters.",
        examples=["张伟"],
    ),
]
IdNumber = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{17}[0-9Xx]$",
        description="Resident identity card number (GB 11643), with a valid check digit; "
        "sensitive (PIPL Art. 28).",
    ),
]
Phone = Annotated[
    str,
    Meta(
        pattern=r"^\+?[0-9][0-9 \-]{0,24}$",
        description="Mainland China mobile number (`+86` optional); stored normalized.",
        examples=["13800138000"],
    ),
]
Email = Annotated[
    str,
    Meta(max_length=EMAIL_MAX_CHARS, description="E-mail address.", examples=["li@example.com"]),
]
Address = Annotated[
    str, Meta(min_length=1, max_length=ADDRESS_MAX_CHARS, description="Postal address.")
]
BankCard = Annotated[
    str,
    Meta(
        pattern=r"^[0-9 \-]{12,40}$",
        description="Bank card number: 12 to 19 digits (spaces and `-` ignored) with a "
        "valid Luhn check digit; sensitive (PIPL Art. 28).",
    ),
]
BirthDate = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        description="Date of birth, `YYYY-MM-DD`, from 1900-01-01 up to today; must agree "
        "with the date encoded in `id_number`.",
    ),
]
Region = Annotated[
    str,
    Meta(
        description="Province-level region, full official name.",
        extra_json_schema={"enum": list(REGIONS)},
    ),
]
Tier = Annotated[str, Meta(description="Customer tier.", extra_json_schema={"enum": list(TIERS)})]
Notes = Annotated[
    str,
    Meta(
        max_length=TEXT_MAX_CHARS,
        description="Free text; personal data inside it is detected and governed on read.",
    ),
]


class CustomerCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new customer: `name` is required; any other field your roles may write.
    Fields your roles may not write are refused (403 `field_not_writable`)."""

    name: Name
    id_number: IdNumber | None = None
    phone: Phone | None = None
    email: Email | None = None
    address: Address | None = None
    bank_card: BankCard | None = None
    birth_date: BirthDate | None = None
    region: Region | None = None
    tier: Tier | None = None
    notes: Notes | None = None


class CustomerUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """The fields to change (at least one); `null` clears an optional field."""

    name: Name | None = None
    id_number: IdNumber | None = None
    phone: Phone | None = None
    email: Email | None = None
    address: Address | None = None
    bank_card: BankCard | None = None
    birth_date: BirthDate | None = None
    region: Region | None = None
    tier: Tier | None = None
    notes: Notes | None = None
