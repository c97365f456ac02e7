"""What each /v1 operation is: the action and entity its audit entry names, the body it
takes and the problems it can answer with.

A route handler carries its `ApiOperation` in its `opt` (`@get(..., opt=operation(...))`):
the governed-call provider reads the action and entity from it, and the OpenAPI
document reads the body and the problems. One declaration per operation, next to
the handler, so the audit entry and the documentation cannot name different things.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar.handlers import BaseRouteHandler

OPT_KEY = "wardgate_operation"

Problems = Mapping[int, tuple[str, ...]]
"""Reason words an operation may answer with, by HTTP status (beyond the ones every
/v1 operation shares: see `gateway.http.openapi`)."""


@dataclass(frozen=True, slots=True)
class DeclaredBody:
    """The body an operation takes, for its documentation.

    The pipelines still read the raw bytes and validate every field themselves, so
    that one 422 names every bad field with its own reason; the Struct states the
    contract (field names, types, bounds) for clients and fuzzers.
    """

    schema: type[msgspec.Struct]
    required: bool = True
    plain_text: bool = False
    """Also accepted as `text/plain` (the whole body is the text)."""
    description: str = ""


class Nothing(msgspec.Struct):
    """No body is needed; whatever is sent is ignored."""


NO_BODY = DeclaredBody(Nothing, required=False)
"""For a POST that takes no body, so that every POST documents what it takes."""


@dataclass(frozen=True, slots=True)
class ApiOperation:
    action: str
    entity: str | None
    body: DeclaredBody | None = None
    problems: Problems = field(default_factory=dict)
    action_for: Callable[[Mapping[str, str]], str] | None = None
    """The action when it depends on the query (a list that is a lookup)."""
    success_media_types: tuple[str, ...] = ()
    """The media types of a success answer that is not JSON (an export), documented."""

    def action_of(self, query: Mapping[str, str]) -> str:
        return self.action_for(query) if self.action_for is not None else self.action


def operation(
    action: str,
    entity: str | None,
    *,
    body: DeclaredBody | type[msgspec.Struct] | None = None,
    problems: Problems | None = None,
    action_for: Callable[[Mapping[str, str]], str] | None = None,
    success_media_types: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The `opt` of a /v1 route handler."""
    declared = DeclaredBody(body) if isinstance(body, type) else body
    return {
        OPT_KEY: ApiOperation(
            action=action,
            entity=entity,
            body=declared,
            # A plain dict: Litestar deep-copies every handler's `opt`.
            problems=dict(problems or {}),
            action_for=action_for,
            success_media_types=success_media_types,
        )
    }


def operation_of(handler: BaseRouteHandler) -> ApiOperation | None:
    found = handler.opt.get(OPT_KEY)
    return found if isinstance(found, ApiOperation) else None


def merge(*groups: Problems) -> Problems:
    """Problems of several steps of one operation, reasons in first-seen order."""
    merged: dict[int, tuple[str, ...]] = {}
    for group in groups:
        for status, reasons in group.items():
            known = merged.get(status, ())
            merged[status] = known + tuple(r for r in reasons if r not in known)
    return merged
