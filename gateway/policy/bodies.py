"""Request bodies of the policy API, checked as a whole: every problem is named at once.

Messages name fields and reasons only; they never quote what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.http.errors import FieldProblem, Unprocessable
from gateway.http.json_body import RequestBody, parse_json_object
from policies.document import PrincipalSpec, Rule, RuleEffect
from policies.errors import PolicyFileError
from policies.purposes import PURPOSE_KEYS, Purpose, parse_purposes

MAX_COMMENT = 1000
MAX_DESCRIPTION = 200
MAX_NAME = 128
OPTION_KEYS = ("comment", "base_version", "acknowledge")
REQUIRE_ON_BEHALF_OF = "require_on_behalf_of"


@dataclass(frozen=True, slots=True)
class ChangeOptions:
    """What every policy-changing request may carry besides the change itself."""

    comment: str = ""
    base_version: int | None = None
    acknowledge: tuple[str, ...] = ()


class _Checker:
    def __init__(self, body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        self.body = body
        self.problems = [FieldProblem(k, "unknown_field") for k in body if k not in allowed]

    def fail(self, name: str, reason: str) -> None:
        self.problems.append(FieldProblem(name, reason))

    def text(self, name: str, *, required: bool = False, limit: int = MAX_NAME) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if not isinstance(value, str) or len(value) > limit or not value.isprintable():
            self.fail(name, "invalid_text")
            return None
        if required and not value:
            self.fail(name, "required")
            return None
        return value

    def names(self, name: str, *, required: bool = False) -> frozenset[str] | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if not isinstance(value, list) or not all(
            isinstance(v, str) and 0 < len(v) <= MAX_NAME and v.isprintable() for v in value
        ):
            self.fail(name, "invalid_list")
            return None
        return frozenset(value)

    def flag(self, name: str) -> bool | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(name, "invalid_flag")
            return None
        return value

    def options(self) -> ChangeOptions:
        comment = self.text("comment", limit=MAX_COMMENT) or ""
        base = self.body.get("base_version")
        if base is not None and (isinstance(base, bool) or not isinstance(base, int) or base < 1):
            self.fail("base_version", "invalid_base_version")
            base = None
        acknowledge = self.names("acknowledge") or frozenset()
        return ChangeOptions(comment, base, tuple(sorted(acknowledge)))

    def done(self) -> None:
        if self.problems:
            names = ", ".join(p.field for p in self.problems)
            msg = f"invalid request body: {names}"
            raise Unprocessable(msg, reason=self.problems[0].reason, errors=tuple(self.problems))


def body_of(raw: RequestBody, *, empty_ok: bool = False) -> dict[str, Any]:
    if empty_ok and raw.empty:
        return {}
    return parse_json_object(raw)


def options_only(raw: RequestBody, query: Mapping[str, str] | None = None) -> ChangeOptions:
    """Options from a body (may be empty) or, for DELETE, from the query string."""
    body: dict[str, Any] = body_of(raw, empty_ok=True)
    for key in ("comment", "base_version"):
        if query and key in query and key not in body:
            value: Any = query[key]
            if key == "base_version":
                value = int(value) if value.isascii() and value.isdigit() else -1
            body[key] = value
    checker = _Checker(body, OPTION_KEYS)
    options = checker.options()
    checker.done()
    return options


def role_body(raw: RequestBody) -> tuple[str, str, ChangeOptions]:
    checker = _Checker(body_of(raw), ("name", "description", *OPTION_KEYS))
    name = checker.text("name", required=True)
    description = checker.text("description", limit=MAX_DESCRIPTION) or ""
    options = checker.options()
    checker.done()
    return name or "", description, options  # done() refused a missing name


def principal_body(raw: RequestBody) -> tuple[str, PrincipalSpec, ChangeOptions]:
    keys = ("id", "roles", "purposes", "description", REQUIRE_ON_BEHALF_OF, *OPTION_KEYS)
    checker = _Checker(body_of(raw), keys)
    pid = checker.text("id", required=True)
    roles = checker.names("roles", required=True)
    purposes = checker.names("purposes", required=True)
    description = checker.text("description", limit=MAX_DESCRIPTION) or ""
    require_on_behalf_of = checker.flag(REQUIRE_ON_BEHALF_OF) or False
    options = checker.options()
    checker.done()
    # done() refused a body without them; `or` only narrows the types.
    spec = PrincipalSpec(
        roles or frozenset(), purposes or frozenset(), description, require_on_behalf_of
    )
    return pid or "", spec, options


@dataclass(frozen=True, slots=True)
class PrincipalUpdate:
    roles: frozenset[str] | None
    purposes: frozenset[str] | None
    description: str | None
    require_on_behalf_of: bool | None = None


def principal_update_body(raw: RequestBody) -> tuple[PrincipalUpdate, ChangeOptions]:
    keys = ("roles", "purposes", "description", REQUIRE_ON_BEHALF_OF, *OPTION_KEYS)
    checker = _Checker(body_of(raw), keys)
    update = PrincipalUpdate(
        roles=checker.names("roles"),
        purposes=checker.names("purposes"),
        description=checker.text("description", limit=MAX_DESCRIPTION),
        require_on_behalf_of=checker.flag(REQUIRE_ON_BEHALF_OF),
    )
    options = checker.options()
    if update == PrincipalUpdate(None, None, None, None):
        checker.fail("roles", "no_fields")
    checker.done()
    return update, options


def rule_body(raw: RequestBody) -> tuple[Rule, ChangeOptions]:
    """`{role, purpose, target, action, effect?, operator?}`: `operator` with action
    `read:mask` binds a masking operator (`read:mask:<operator>`)."""
    keys = ("role", "purpose", "target", "action", "effect", "operator", *OPTION_KEYS)
    checker = _Checker(body_of(raw), keys)
    role = checker.text("role", required=True)
    purpose = checker.text("purpose", required=True)
    target = checker.text("target", required=True)
    action = checker.text("action", required=True)
    operator = checker.text("operator")
    effect_raw = checker.text("effect") or RuleEffect.ALLOW.value
    effect = RuleEffect.ALLOW
    try:
        effect = RuleEffect(effect_raw)
    except ValueError:
        checker.fail("effect", "invalid_effect")
    if operator is not None:
        if action == "read:mask":
            action = f"read:mask:{operator}"
        else:
            checker.fail("operator", "operator_needs_mask")
    options = checker.options()
    checker.done()
    # done() refused a body without them; `or` only narrows the types.
    return Rule(role or "", purpose or "", target or "", action or "", effect), options


def purpose_body(
    raw: RequestBody, *, purpose_id: str | None, current: Purpose | None
) -> tuple[Purpose, ChangeOptions]:
    """A new purpose (`purpose_id` None: the body names `id`) or an update merged onto
    `current`. The purposes parser checks the definition and names the first problem."""
    body = body_of(raw)
    allowed = (*PURPOSE_KEYS, *OPTION_KEYS, *(("id",) if purpose_id is None else ()))
    checker = _Checker(body, allowed)
    options = checker.options()
    pid = purpose_id if purpose_id is not None else checker.text("id", required=True)
    checker.done()
    pid = pid or ""  # done() refused a missing id
    spec = {k: v for k, v in body.items() if k in PURPOSE_KEYS}
    if current is not None:
        spec = current.to_document() | spec
    try:
        purpose = parse_purposes({pid: spec})[pid]
    except PolicyFileError as exc:
        where, _, _ = str(exc).partition(": ")
        problem = FieldProblem(where, "invalid_purpose")
        # The parser's message may quote what was sent: name the place only.
        msg = f"invalid purpose definition at {where}"
        raise Unprocessable(msg, reason="invalid_purpose", errors=(problem,)) from None
    return purpose, options
