"""Reviewing a policy change before it is applied: is it valid, and is it safe?

Three checks beyond the structural ones of `policy_problems`, all computed from the
compiled decisions of a `PolicyEngine` on the candidate document (never by matching
rule strings, so patterns, wildcards, role inheritance and explicit denies count
exactly as they will on the request path):

- **Sensitive data in clear** (`sensitive_clear_unacknowledged`). A change that lets a
  role read a sensitive field (catalog `sensitivity: sensitive`, PIPL Art. 28) in clear
  under a purpose that does not gate sensitive fields behind separate consent is
  refused unless the request acknowledges it. Which purposes gate them is the consent
  module's rule (`PurposeRules.sensitive_needs_consent`: legal basis `consent` by PIPL
  Art. 29, `contract` by house rule); under any other basis (legal obligation, HR,
  emergency, ...) a clear read would show the value to every caller with no consent
  check at all. A field outside the purpose's categories is withheld anyway
  (`outside_purpose`) and does not count. The same holds inside free text: every
  sensitive category (`Catalog.sensitive_categories`, those found only in text such as
  `identity.travel_document` included) that the per-category text plan would show in
  clear, whether granted by a `text:<category>` rule or a category rule. Only exposures
  the base version did not already have need acknowledging; the token is
  `sensitive_clear:<role>:<purpose>:<category>`, one for the category wherever it is
  shown.
- **Separation of duties** (`separation_of_duties`, GB/T 35273 §7.1). Whoever can
  change policy must not also read customer data or the audit log. A role is
  *policy-admin capable* when, under some declared purpose, it holds `policy:admin`.
  Such a role is refused if, under any declared purpose, it also holds `audit:read`,
  `consent:read` or `consent:evidence` (consent records are customer data), or any
  read effect other than `deny` on any field of any catalog entity. The same holds
  for each principal, over the union of its roles under its allowed purposes (so two
  harmless roles cannot be combined into one that administers and reads).
- **Last administrator** (`last_policy_admin`): a change that leaves no principal able
  to administer policy (when the base had one) is refused, so nobody locks the API out
  — a rollback to a version from before principals joined the document included.
- **Self-grant** (`self_grants`): what a change would add to the acting principal's own
  roles, purposes or effective rights. The change service refuses any of it.

And one question the policy API asks before it touches a key: does a principal reach
customer data or the audit log (`principal_data_access`)? A policy administrator may
hold keys only of principals that do not, so it never gets to use a data principal's
access itself (GB/T 35273 §7.1); `principals_gaining_data_access` keeps a later change
from turning such a key into one that does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from policies.catalog import Catalog, Sensitivity
from policies.consent import PurposeRules
from policies.document import PolicyDocument, PolicyProblem, RuleEffect, policy_problems
from policies.plan import EffectKind, PolicyEngine, PolicyPlan

POLICY_ADMIN = "policy:admin"
SENSITIVE_CLEAR = "sensitive_clear"
SEPARATION_OF_DUTIES = "separation_of_duties"
SENSITIVE_CLEAR_UNACKNOWLEDGED = "sensitive_clear_unacknowledged"
LAST_POLICY_ADMIN = "last_policy_admin"

# A review compiles plans of its own; their version number is never served.
_REVIEW_VERSION = 0


@dataclass(frozen=True, slots=True, order=True)
class SensitiveExposure:
    """A role that would read a sensitive category in clear without separate consent."""

    role: str
    purpose: str
    category: str

    @property
    def token(self) -> str:
        """What a request names in `acknowledge` to accept this exposure."""
        return f"{SENSITIVE_CLEAR}:{self.role}:{self.purpose}:{self.category}"


FREE_TEXT = "free text"
"""Where an exposure is, when it is inside free text rather than in a column."""


def _exposure_places(engine: PolicyEngine) -> dict[SensitiveExposure, list[str]]:
    """Every exposure, with where it would be read in clear: the columns
    (`customers.id_number`) and/or `free text`."""
    document, catalog = engine.document, engine.catalog
    sensitive = [s for s in catalog.all_fields() if s.sensitivity is Sensitivity.SENSITIVE]
    # Inside free text every sensitive category counts, those no column carries
    # (identity.travel_document) included, exactly as the compiled text plan decides it.
    in_text = sorted(catalog.sensitive_categories() & set(engine.text_categories()))
    found: dict[SensitiveExposure, list[str]] = {}
    for purpose in document.purposes.values():
        if PurposeRules(purpose).sensitive_needs_consent:
            continue
        for role in document.roles:
            roles = frozenset({role})
            for spec in sensitive:
                if not purpose.allows_category(spec.category):
                    continue
                if engine.decide_read(roles, purpose.id, spec).kind is EffectKind.CLEAR:
                    exposure = SensitiveExposure(role, purpose.id, spec.category)
                    found.setdefault(exposure, []).append(spec.qualified_name)
            # Whether this role itself shows any text does not matter: roles add up, so
            # a principal holding it and a role that shows notes would read the category
            # in clear inside them. (Outside the purpose's scope the plan withholds it.)
            for category in in_text:
                if engine.decide_text(roles, purpose.id, category).kind is EffectKind.CLEAR:
                    exposure = SensitiveExposure(role, purpose.id, category)
                    found.setdefault(exposure, []).append(FREE_TEXT)
    return found


def sensitive_exposures(engine: PolicyEngine) -> frozenset[SensitiveExposure]:
    return frozenset(_exposure_places(engine))


def _with_ancestors(document: PolicyDocument, roles: frozenset[str]) -> set[str]:
    found, todo = set(roles), list(roles)
    while todo:
        role = todo.pop()
        for child, parent in document.role_parents:
            if child == role and parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


def _has_allow_rule(
    document: PolicyDocument, roles: frozenset[str], action: Callable[[str], bool]
) -> bool:
    """A necessary condition for a right: some allow rule of these roles (or the roles
    they inherit from) names a matching action (or `*`). Only a shortcut that saves
    casbin calls — when it holds, the engine decides."""
    reachable = _with_ancestors(document, roles)
    return any(
        rule.role in reachable and (rule.action == "*" or action(rule.action))
        for rule in document.rules
        if rule.effect is RuleEffect.ALLOW
    )


def _reads_anything(engine: PolicyEngine, roles: frozenset[str], purpose: str) -> bool:
    if not _has_allow_rule(engine.document, roles, lambda a: a.startswith("read:")):
        return False
    return any(
        engine.decide_read(roles, purpose, spec).kind is not EffectKind.DENY
        for spec in engine.catalog.all_fields()
    )


_CONSENT_READS = ("consent:read", "consent:evidence")


def _reads_consents(engine: PolicyEngine, roles: frozenset[str], purpose: str) -> bool:
    """Consent records are customer data too: who agreed to what, and the evidence."""
    if not _has_allow_rule(engine.document, roles, lambda a: a in _CONSENT_READS):
        return False
    return any(
        engine.granted(roles, purpose, f"consent:{pid}", "api:consent", action)
        for pid in engine.document.purposes
        for action in _CONSENT_READS
    )


def _duties_clash(engine: PolicyEngine, roles: frozenset[str], purposes: Iterable[str]) -> bool:
    if not _has_allow_rule(engine.document, roles, lambda a: a == POLICY_ADMIN):
        return False
    purposes = [p for p in purposes if p in engine.document.purposes]
    rights = {p: engine.api_rights(roles, p) for p in purposes}
    if not any(POLICY_ADMIN in r for r in rights.values()):
        return False
    return any(
        "audit:read" in rights[p]
        or _reads_consents(engine, roles, p)
        or _reads_anything(engine, roles, p)
        for p in purposes
    )


def duty_problems(engine: PolicyEngine) -> list[PolicyProblem]:
    document = engine.document
    problems: list[PolicyProblem] = []
    for role in document.roles:
        if _duties_clash(engine, frozenset({role}), document.purposes):
            message = (
                f"role {role!r} would both administer policy and read customer fields "
                "or the audit log (GB/T 35273 §7.1)"
            )
            problems.append(PolicyProblem(f"roles.{role}", SEPARATION_OF_DUTIES, message))
    for pid, spec in document.principals.items():
        if _duties_clash(engine, spec.roles & document.roles.keys(), spec.purposes):
            message = (
                f"principal {pid!r} would both administer policy and read customer fields "
                "or the audit log through its roles (GB/T 35273 §7.1)"
            )
            problems.append(PolicyProblem(f"principals.{pid}", SEPARATION_OF_DUTIES, message))
    return problems


def review_change(
    base: PolicyDocument | None,
    candidate: PolicyDocument,
    catalog: Catalog,
    operators: Collection[str],
    *,
    acknowledged: Collection[str] = (),
) -> list[PolicyProblem]:
    """Every reason not to apply `candidate` on top of `base`; empty means apply it."""
    problems = policy_problems(candidate, catalog, operators)
    if problems:
        # Safety is judged on a document that means what it says.
        return problems
    engine = PolicyEngine(candidate, catalog, _REVIEW_VERSION)
    before = (
        sensitive_exposures(PolicyEngine(base, catalog, _REVIEW_VERSION))
        if base is not None
        else frozenset()
    )
    exposures = _exposure_places(engine)
    for exposure in sorted(exposures.keys() - before):
        if exposure.token in acknowledged:
            continue
        message = (
            f"role {exposure.role!r} would read {exposure.category!r} (sensitive, PIPL "
            f"Art. 28) in clear ({', '.join(exposures[exposure])}) under purpose "
            f"{exposure.purpose!r}, which does not require separate consent for sensitive "
            f"data; acknowledge {exposure.token!r} to apply"
        )
        problems.append(PolicyProblem("rules", SENSITIVE_CLEAR_UNACKNOWLEDGED, message))
    problems.extend(duty_problems(engine))
    if (
        base is not None
        and not _administrators(engine)
        and _administrators(PolicyEngine(base, catalog, _REVIEW_VERSION))
    ):
        message = (
            "no principal could administer policy after this change (nobody could undo it "
            "through the API); keep at least one principal with policy:admin"
        )
        problems.append(PolicyProblem("principals", LAST_POLICY_ADMIN, message))
    return problems


def _administrators(engine: PolicyEngine) -> list[str]:
    """Principals that hold `policy:admin` under one of their allowed purposes."""
    document = engine.document
    found = []
    for pid, spec in document.principals.items():
        roles = spec.roles & document.roles.keys()
        if not _has_allow_rule(document, roles, lambda a: a == POLICY_ADMIN):
            continue
        if any(
            POLICY_ADMIN in engine.api_rights(roles, p)
            for p in spec.purposes
            if p in document.purposes
        ):
            found.append(pid)
    return found


# --- self-grant ---------------------------------------------------------------------

_READ_RANK = {
    EffectKind.DENY: 0,
    EffectKind.PSEUDONYMIZE: 1,
    EffectKind.MASK: 2,
    # Free text shown with the personal data inside it treated per category.
    EffectKind.SCAN: 2,
    EffectKind.CLEAR: 3,
}


def _gains(before: PolicyPlan | None, after: PolicyPlan) -> list[str]:
    gained = [f"api right {r!r}" for r in sorted(after.api_rights - _api(before))]
    gained += [
        f"consents of {p!r}"
        for p in sorted(after.consent_purposes - (before.consent_purposes if before else set()))
    ]
    gained += [
        f"consent records of {p!r}"
        for p in sorted(after.consent_readable - (before.consent_readable if before else set()))
    ]
    for name, entity in after.entities.items():
        old = before.entities.get(name) if before else None
        for field_name, decision in entity.decisions.items():
            old_kind = old.decisions[field_name].kind if old else EffectKind.DENY
            if _READ_RANK[decision.kind] > _READ_RANK[old_kind]:
                gained.append(f"read {name}.{field_name} as {decision.kind.value}")
        gained += [
            f"write {name}.{f}" for f in sorted(entity.writable - (old.writable if old else set()))
        ]
        gained += [
            f"lookup {name}.{f}"
            for f in sorted(entity.lookupable - (old.lookupable if old else set()))
        ]
    for category, text in after.text.items():
        old_text = before.text.get(category) if before else None
        old_kind = old_text.kind if old_text else EffectKind.DENY
        if _READ_RANK[text.kind] > _READ_RANK[old_kind]:
            gained.append(f"read {category} inside free text as {text.kind.value}")
    return gained


def _api(plan: PolicyPlan | None) -> frozenset[str]:
    return plan.api_rights if plan is not None else frozenset()


def self_grants(
    base: PolicyDocument, candidate: PolicyDocument, catalog: Catalog, actor: str
) -> list[str]:
    """What `candidate` adds to `actor`'s own roles, purposes or effective rights."""
    after_spec = candidate.principals.get(actor)
    if after_spec is None:
        return []
    before_spec = base.principals.get(actor)
    before_roles = before_spec.roles if before_spec else frozenset()
    before_purposes = before_spec.purposes if before_spec else frozenset()
    grants = [f"role {r!r}" for r in sorted(after_spec.roles - before_roles)]
    grants += [f"purpose {p!r}" for p in sorted(after_spec.purposes - before_purposes)]
    if grants:
        return grants
    new_engine = PolicyEngine(candidate, catalog, _REVIEW_VERSION)
    old_engine = PolicyEngine(base, catalog, _REVIEW_VERSION)
    for purpose in sorted(after_spec.purposes):
        if purpose not in candidate.purposes:
            continue
        after = new_engine.plan(after_spec.roles, purpose)
        before = old_engine.plan(before_roles, purpose) if purpose in base.purposes else None
        grants += [f"{gain} under {purpose!r}" for gain in _gains(before, after)]
    return grants


# --- data access (who may hold which keys) ---------------------------------------------


_NO_DATA_RIGHTS = frozenset({POLICY_ADMIN, "console"})


def plan_data_access(plan: PolicyPlan) -> list[str]:
    """What a compiled plan lets its holder do with customer data or the audit log.

    Every API right but `policy:admin` and `console` counts (audit:read, consent:write,
    consent:read, consent:evidence, scan, erase — and any right added later: fail
    closed); `console` only opens the web console's door, and what its holder sees there
    follows from the other rights, which count here. So do
    recording or reading consents, and reading, writing or looking up any field of any
    catalog entity. Empty means none of it.
    """
    found = [f"api right {r!r}" for r in sorted(plan.api_rights - _NO_DATA_RIGHTS)]
    if plan.consent_purposes:
        found.append("record consents")
    if plan.consent_readable:
        found.append("read consent records")
    for name, entity in sorted(plan.entities.items()):
        found += [
            f"{what} {name}"
            for what, granted in (
                ("read", entity.visible),
                ("write", entity.writable),
                ("look up", entity.lookupable),
            )
            if granted
        ]
    return found


def principal_data_access(engine: PolicyEngine, principal_id: str) -> list[str]:
    """What the principal's compiled plans let it do with customer data or the audit log,
    under the first of its allowed purposes (in name order) that lets it do anything.
    Empty means nothing under any of them; a principal the document does not name has
    no access."""
    spec = engine.document.principals.get(principal_id)
    if spec is None:
        return []
    known = spec.roles & engine.document.roles.keys()
    # Shortcut: with no allow rule but policy:admin there is nothing to compile.
    if not _has_allow_rule(engine.document, known, lambda a: a != POLICY_ADMIN):
        return []
    for purpose in sorted(spec.purposes & engine.document.purposes.keys()):
        # `spec.roles` as the request path asks: the plan cache is already warm with it.
        found = plan_data_access(engine.plan(spec.roles, purpose))
        if found:
            return [f"{what} under {purpose!r}" for what in found]
    return []


def principals_gaining_data_access(
    base: PolicyEngine | None, candidate: PolicyEngine, among: Iterable[str]
) -> list[str]:
    """Principals of `among` that reach customer data or the audit log under `candidate`
    but did not under `base` (or were not in it)."""
    return [
        pid
        for pid in sorted(set(among) & candidate.document.principals.keys())
        # The base first: usually the version in force, with its plans compiled.
        if not (base is not None and principal_data_access(base, pid))
        and principal_data_access(candidate, pid)
    ]
