"""Policy expectations: cases an organisation keeps next to its policy files and runs in CI.

An expectation file is a YAML list of cases::

    - name: the desk sees phone numbers masked
      principal: support-desk          # or  roles: [customer_service]
      purpose: customer_service
      customer:                        # optional: a stored customer's id, or inline facts
        consents: [customer_service]   #   purposes with a valid consent
        separate: [sensitive]          #   separate scopes those consents carry
        minor: false                   #   under 14 (then `guardian: true` for a guardian's)
      expect:
        customers.phone: mask:mobile   # `entity.field`, or a bare customers field
        id_number: masked
        record: served                 # or withheld:<reason>; `orders.record` for orders

An expected value is either an **effect** — `deny`, `mask`, `mask:<operator>`,
`pseudonymize` — checked against the compiled plan, or an **outcome** — `clear`,
`masked`, `pseudonymized`, `scanned` (free text), `withheld:<reason>`, or just
`withheld` — checked against what
a read shows for that customer (without a customer: with the consent the purpose needs
in place). `mask` matches any masking operator. A principal calling with a purpose it
may not declare is refused: every outcome is then `withheld:purpose_not_allowed`.

Cases are judged by `policies.explain`, so they agree with real reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from policies.catalog import Catalog
from policies.consent import ConsentRecordError
from policies.document import PolicyDocument, Rule
from policies.errors import PolicyFileError, UnknownPurposeError
from policies.explain import ConsentFacts, Explanation, FieldExplanation, explain
from policies.plan import PolicyEngine

CASE_KEYS = ("name", "principal", "roles", "purpose", "customer", "expect")
INLINE_LISTS = ("consents", "separate", "withdrawn", "expired")
INLINE_FLAGS = ("minor", "guardian")
RECORD = "record"
SERVED = "served"
NOT_ALLOWED = "withheld:purpose_not_allowed"
WITHHELD = "withheld"


@dataclass(frozen=True, slots=True)
class InlineFacts:
    """Consent facts stated in the case, so it runs without a store."""

    consents: tuple[str, ...] = ()
    separate: tuple[str, ...] = ()
    withdrawn: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()
    minor: bool = False
    guardian: bool = False

    def facts(self, now: dt.datetime) -> ConsentFacts:
        return ConsentFacts.inline(
            now=now,
            consents=self.consents,
            separate=self.separate,
            withdrawn=self.withdrawn,
            expired=self.expired,
            minor=self.minor,
            guardian=self.guardian,
        )


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    line: int
    purpose: str
    expect: Mapping[str, str]
    principal: str | None = None
    roles: frozenset[str] | None = None
    customer_id: str | None = None
    """A customer in the store whose consent facts decide."""
    inline: InlineFacts | None = None


@dataclass(frozen=True, slots=True)
class Mismatch:
    key: str
    expected: str
    got: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    mismatches: tuple[Mismatch, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.mismatches


# --- parsing -------------------------------------------------------------------------------


def _fail(source: str, line: int, case: str | None, message: str) -> PolicyFileError:
    named = "" if case is None else f"case {case!r}: "
    return PolicyFileError(f"{source} line {line}: {named}{message}")


def _names(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    return None


def _inline(raw: dict[Any, Any], fail: Callable[[str], PolicyFileError]) -> InlineFacts:
    unknown = sorted(str(k) for k in raw if k not in (*INLINE_LISTS, *INLINE_FLAGS))
    if unknown:
        expected = ", ".join((*INLINE_LISTS, *INLINE_FLAGS))
        raise fail(f"customer: unknown keys {', '.join(unknown)}; expected {expected}")
    lists: dict[str, tuple[str, ...]] = {}
    for key in INLINE_LISTS:
        names = _names(raw.get(key, []))
        if names is None:
            raise fail(f"customer.{key}: expected a list of names")
        lists[key] = names
    flags: dict[str, bool] = {}
    for key in INLINE_FLAGS:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise fail(f"customer.{key}: expected true or false")
        flags[key] = value
    facts = InlineFacts(
        consents=lists["consents"],
        separate=lists["separate"],
        withdrawn=lists["withdrawn"],
        expired=lists["expired"],
        minor=flags["minor"],
        guardian=flags["guardian"],
    )
    try:
        facts.facts(dt.datetime.now(dt.UTC))
    except ConsentRecordError as exc:
        raise fail(f"customer: {exc}") from None
    return facts


def _known_key(key: str, catalog: Catalog) -> bool:
    entity, _, name = key.rpartition(".")
    entity = entity or "customers"
    if entity not in catalog.entities:
        return False
    return name == RECORD or name in catalog.entities[entity].field_names


def _case(raw: Any, line: int, source: str, catalog: Catalog, index: int) -> Case:
    if not isinstance(raw, dict):
        raise _fail(source, line, None, f"case {index + 1}: expected a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(source, line, None, f"case {index + 1}: `name` is required")

    def fail(message: str) -> PolicyFileError:
        return _fail(source, line, name, message)

    unknown = sorted(str(k) for k in raw if k not in CASE_KEYS)
    if unknown:
        raise fail(f"unknown keys {', '.join(unknown)}; expected any of {', '.join(CASE_KEYS)}")
    if ("principal" in raw) == ("roles" in raw):
        raise fail("name either a `principal` or its `roles`")
    principal = raw.get("principal")
    if "principal" in raw and (not isinstance(principal, str) or not principal):
        raise fail("`principal` must be a principal id")
    roles = None
    if "roles" in raw:
        names = _names(raw["roles"])
        if names is None:
            raise fail("`roles` must be a list of role names")
        roles = frozenset(names)
    purpose = raw.get("purpose")
    if not isinstance(purpose, str) or not purpose:
        raise fail("`purpose` is required")
    customer = raw.get("customer")
    customer_id, inline = None, None
    if isinstance(customer, str) and customer:
        customer_id = customer
    elif isinstance(customer, dict):
        inline = _inline(customer, fail)
    elif customer is not None:
        raise fail("`customer` is a stored customer's id or a mapping of consent facts")
    expect = raw.get("expect")
    if not isinstance(expect, dict) or not expect:
        raise fail("`expect` must map fields to expected effects or outcomes")
    for key, value in expect.items():
        if not isinstance(key, str) or not _known_key(key, catalog):
            raise fail(f"expect: {key!r} is no field of the catalog (entity.field, or `record`)")
        if not isinstance(value, str) or not value:
            raise fail(f"expect.{key}: expected an effect or an outcome, such as masked")
    return Case(
        name=name,
        line=line,
        purpose=purpose,
        expect=dict(expect),
        principal=principal if isinstance(principal, str) else None,
        roles=roles,
        customer_id=customer_id,
        inline=inline,
    )


def parse_expectations(text: str, source: str, catalog: Catalog) -> list[Case]:
    """The cases of an expectation file; PolicyFileError names file, line and case."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 1 if mark is None else mark.line + 1
        raise _fail(source, line, None, "not valid YAML") from None
    if not isinstance(raw, list) or not raw or not isinstance(root, yaml.SequenceNode):
        raise _fail(source, 1, None, "expected a non-empty list of cases")
    cases = [
        _case(item, node.start_mark.line + 1, source, catalog, index)
        for index, (item, node) in enumerate(zip(raw, root.value, strict=True))
    ]
    seen: dict[str, int] = {}
    for case in cases:
        if case.name in seen:
            first = seen[case.name]
            raise _fail(source, case.line, case.name, f"named twice (first on line {first})")
        seen[case.name] = case.line
    return cases


# --- judging -------------------------------------------------------------------------------


def _rule_text(rule: Rule | None) -> str:
    return "none (default deny)" if rule is None else "[" + ", ".join(rule.as_casbin()) + "]"


def _is_effect(expected: str) -> bool:
    return expected in ("deny", "mask", "pseudonymize") or expected.startswith("mask:")


def _field_matches(expected: str, explained: FieldExplanation, outcome: str) -> tuple[bool, str]:
    if _is_effect(expected):
        got = explained.effect
        if expected == "mask":
            return got.startswith("mask"), got
        return got == expected, got
    if expected == WITHHELD:
        return outcome.startswith(WITHHELD + ":"), outcome
    return outcome == expected, outcome


def _record_matches(expected: str, got: str) -> bool:
    if expected == WITHHELD:
        return got.startswith(WITHHELD + ":")
    return got == expected


def judge(case: Case, explanation: Explanation, *, purpose_allowed: bool) -> list[Mismatch]:
    """What of the case's expectations the explanation does not meet."""
    mismatches: list[Mismatch] = []
    for key, expected in case.expect.items():
        entity, _, name = key.rpartition(".")
        explained_entity = explanation.entities[entity or "customers"]
        if name == RECORD:
            got = explained_entity.record_outcome or SERVED
            if not purpose_allowed:
                got = NOT_ALLOWED
            if not _record_matches(expected, got):
                mismatches.append(Mismatch(key, expected, got))
            continue
        explained = explained_entity.field(name)
        outcome = explained.outcome if purpose_allowed else NOT_ALLOWED
        ok, got = _field_matches(expected, explained, outcome)
        if not ok:
            detail = f"effect {explained.effect} by rule {_rule_text(explained.rule)}"
            if not purpose_allowed:
                detail += f"; the principal may not declare purpose {case.purpose!r}"
            elif explained.withheld and explained.outcome != "withheld:denied":
                detail += f"; {explained.outcome}: {explained.reason}"
            mismatches.append(Mismatch(key, expected, got, detail))
    return mismatches


def run_case(
    case: Case,
    engine: PolicyEngine,
    *,
    now: dt.datetime,
    stored: Mapping[str, ConsentFacts] | None = None,
    default_mask: Callable[[str], str] | None = None,
) -> CaseResult:
    """Explain the case's call and judge it. `stored` holds the facts of stored customers."""
    document: PolicyDocument = engine.document
    purpose_allowed = True
    if case.principal is not None:
        spec = document.principals.get(case.principal)
        if spec is None:
            missing = Mismatch("principal", case.principal, "not in the policy")
            return CaseResult(case, (missing,))
        roles: frozenset[str] = spec.roles
        purpose_allowed = case.purpose in spec.purposes
    else:
        roles = case.roles or frozenset()
    consent: ConsentFacts | None = None
    if case.inline is not None:
        consent = case.inline.facts(now)
    elif case.customer_id is not None:
        consent = (stored or {}).get(case.customer_id)
        if consent is None:
            missing = Mismatch("customer", case.customer_id, "not in the store")
            return CaseResult(case, (missing,))
    try:
        explanation = explain(
            engine, roles, case.purpose, consent=consent, now=now, default_mask=default_mask
        )
    except UnknownPurposeError:
        return CaseResult(case, (Mismatch("purpose", case.purpose, "not in the policy"),))
    return CaseResult(case, tuple(judge(case, explanation, purpose_allowed=purpose_allowed)))


def run_cases(
    cases: Sequence[Case],
    engine: PolicyEngine,
    *,
    now: dt.datetime,
    stored: Mapping[str, ConsentFacts] | None = None,
    default_mask: Callable[[str], str] | None = None,
) -> list[CaseResult]:
    return [
        run_case(case, engine, now=now, stored=stored, default_mask=default_mask) for case in cases
    ]
