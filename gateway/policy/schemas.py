"""The policy API's request bodies, declared for the OpenAPI document.

The handlers read the body as bytes and `gateway.policy.bodies` checks it as a whole,
naming every problem in one 422; these Structs state the same contract for clients.
A test keeps each Struct's fields equal to the keys its checker accepts.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from gateway.policy.bodies import MAX_COMMENT, MAX_DESCRIPTION, MAX_NAME
from policies.document import RuleEffect
from policies.purposes import LegalBasis

Name = Annotated[str, Meta(min_length=1, max_length=MAX_NAME)]
Names = Annotated[list[Name], Meta(description="Names, each 1 to 128 printable characters.")]
Description = Annotated[str, Meta(max_length=MAX_DESCRIPTION)]


class ChangeOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What every policy change may carry besides the change itself."""

    comment: (
        Annotated[str, Meta(max_length=MAX_COMMENT, description="Why; kept with the version.")]
        | None
    ) = None
    base_version: (
        Annotated[
            int,
            Meta(
                ge=1,
                description="The version this change was prepared against; 409 if a newer "
                "one exists.",
            ),
        ]
        | None
    ) = None
    acknowledge: (
        Annotated[list[Name], Meta(description="Review warnings accepted (their codes), by name.")]
        | None
    ) = None


class RoleCreate(ChangeOptions, kw_only=True, forbid_unknown_fields=True):
    name: Name
    description: Description | None = None


class PrincipalCreate(ChangeOptions, kw_only=True, forbid_unknown_fields=True):
    id: Name
    roles: Names
    purposes: Names
    description: Description | None = None


class PrincipalUpdate(ChangeOptions, kw_only=True, forbid_unknown_fields=True):
    """At least one of `roles`, `purposes`, `description`."""

    roles: Names | None = None
    purposes: Names | None = None
    description: Description | None = None


class RuleCreate(ChangeOptions, kw_only=True, forbid_unknown_fields=True):
    """A casbin rule; `operator` with action `read:mask` binds a masking operator."""

    role: Name
    purpose: Name
    target: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=MAX_NAME,
            description="A field (`customers.phone`), a category, `api:<right>` or `*`.",
        ),
    ]
    action: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=MAX_NAME,
            description="`read:clear`, `read:mask`, `read:mask:<operator>`, "
            "`read:pseudonymize`, `read:*`, `write`, `lookup`, an API right or `*`.",
        ),
    ]
    effect: RuleEffect | None = None
    operator: Name | None = None


class _PurposeFields(ChangeOptions, kw_only=True, forbid_unknown_fields=True):
    # Absent keeps the value (or the default); null is not a value of these fields.
    name_zh: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    name_en: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    legal_basis: LegalBasis | UnsetType = UNSET
    categories: (
        Annotated[
            list[str],
            Meta(description="Data categories the purpose may use: names, `prefix.*`, or `*`."),
        ]
        | UnsetType
    ) = UNSET
    third_party: bool | UnsetType = UNSET
    public_disclosure: bool | UnsetType = UNSET
    cross_border: bool | UnsetType = UNSET
    marketing: bool | UnsetType = UNSET
    automated_decision: bool | UnsetType = UNSET
    retention_days: Annotated[int, Meta(ge=1)] | UnsetType = UNSET


class PurposeCreate(_PurposeFields, kw_only=True, forbid_unknown_fields=True):
    """A new purpose of processing; `legal_basis` is required."""

    id: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$")]


class PurposeUpdate(_PurposeFields, kw_only=True, forbid_unknown_fields=True):
    """The purpose's fields to change; the rest keep their value."""


class ExplainQuestion(msgspec.Struct, forbid_unknown_fields=True):
    """Why `principal` (or a set of `roles`; exactly one of the two) sees each field as
    it does under `purpose`, optionally for one customer's consent state."""

    purpose: Name
    principal: Name | UnsetType = UNSET
    roles: Annotated[list[Annotated[str, Meta(min_length=1)]], Meta()] | UnsetType = UNSET
    customer_id: Name | UnsetType = UNSET
