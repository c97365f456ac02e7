"""From a posted console form to the body a policy use case reads, and from a refusal
back to the form: every problem beside the field it names.

The console hands the use cases of `gateway.policy` the same JSON body the API would,
so a form is checked exactly as an API request is (and nothing else is trusted).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import orjson

from gateway.http.errors import GatewayError
from gateway.http.json_body import JSON_MEDIA_TYPE, RequestBody
from gateway.http.problems import policy_change_status
from gateway.policy.errors import PolicyChangeError, PolicyChangeRejected

GENERAL = "_form"
"""Where a problem that belongs to no one field is shown: above the form."""
_SEPARATORS = re.compile(r"[\s,，]+")

Placer = Callable[[str, str], str]
"""(where a policy review names the problem, its reason) -> the form field to show it."""


def json_body(fields: Mapping[str, object]) -> RequestBody:
    return RequestBody(orjson.dumps(dict(fields)), JSON_MEDIA_TYPE)


def names(raw: str | None) -> list[str]:
    """A list typed into one text field, separated by commas or white space."""
    return [name for name in _SEPARATORS.split(raw or "") if name]


def change_options(form: Mapping[str, str]) -> dict[str, object]:
    """The comment, base version and acknowledgements every change form carries."""
    options: dict[str, object] = {}
    if comment := form.get("comment", "").strip():
        options["comment"] = comment
    base = form.get("base_version", "").strip()
    if base:
        # Not a number: passed on as text, which the use case refuses by name.
        options["base_version"] = int(base) if base.isascii() and base.isdigit() else base
    if acknowledge := names(form.get("acknowledge")):
        options["acknowledge"] = acknowledge
    return options


@dataclass(slots=True)
class FormErrors:
    """Reason words by form field (GENERAL for the form as a whole), and the status."""

    status: int = 422
    reason: str = "invalid_fields"
    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, reason: str) -> None:
        reasons = self.by_field.setdefault(name, [])
        if reason not in reasons:
            reasons.append(reason)

    def __bool__(self) -> bool:
        return bool(self.by_field)


def refusal(exc: GatewayError | PolicyChangeError, place: Placer | None = None) -> FormErrors:
    """What the form shows for a refused use case: a 4xx (a 5xx is not the user's to fix
    and is raised again by `refusable`)."""
    if isinstance(exc, GatewayError):
        errors = FormErrors(status=exc.status, reason=exc.reason)
        for problem in exc.errors:
            errors.add(problem.field, problem.reason)
    else:
        errors = FormErrors(status=policy_change_status(exc)[0], reason=exc.reason)
        if isinstance(exc, PolicyChangeRejected):
            for rejected in exc.problems:
                name = place(rejected.where, rejected.reason) if place else GENERAL
                errors.add(name, rejected.reason)
    if not errors:
        errors.add(GENERAL, errors.reason)
    return errors


def refusable(exc: BaseException) -> bool:
    """A refusal the user can fix on the form (a 4xx), not a failure of the gateway."""
    if isinstance(exc, GatewayError):
        return exc.status < 500
    return isinstance(exc, PolicyChangeError)
