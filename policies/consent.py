"""PIPL consent: records, derived state, and the per-record decision of a governed read.

What is decided here, and why (article numbers are PIPL's):

- **Basis first.** A purpose whose legal basis is `consent` (Art. 13(1)) needs a valid
  consent of the customer for that purpose, else the whole record is withheld with
  `no_consent`. The other bases of Art. 13(2)-(7) — contract, HR management, legal
  obligation, emergency, news in the public interest, published data, other law — need
  no consent (Art. 13 last paragraph); the gateway records the basis in the audit entry.
- **Separate consents** (单独同意) are scopes of their own, never implied by the
  purpose-level consent: sensitive personal information (Art. 29), provision to a third
  party (Art. 23), public disclosure (Art. 25) and cross-border transfer (Art. 39). A
  purpose flagged for a third party, disclosure or cross-border transfer cannot run at
  all without its scope, so the record is withheld with `no_separate_consent`.
- **Sensitive fields** (Art. 28) need a valid consent carrying the `sensitive` scope, or
  they alone are withheld with `no_separate_consent`. This holds for the `consent` basis
  and, as a house rule stricter than Art. 13(2), for `contract` too: the service desk
  serves a contract but sees `id_number` only with separate consent (the demo policy).
- **Minors under 14** (Art. 28, Art. 31): consent must come from a guardian, so a
  consent-basis purpose withholds a minor's record with `guardian_consent_required`
  unless the consent names a guardian; under `contract` the same holds for the minor's
  sensitive fields. Age comes from the birth date, else from the resident ID number.
  When stored birth data cannot be read (it fails to decrypt, or does not parse) the
  person counts as a minor: a guardian's consent is needed (fail closed). Every door —
  reads, writes, the consent API, the importers, explanations, the demo seeder — asks
  `age_of(...).minor_on(day)`, so they cannot disagree. A customer with no birth data
  at all is not known to be a minor.
  Age is reached on the birthday; someone born on 29 February turns 14 on 1 March of a
  common year — the later of the two readings, so protection lasts a day longer.
- **Purpose limitation** (Art. 6): a field whose data category the purpose does not
  cover is withheld with `outside_purpose` whatever the basis, and that reason stands
  even when the whole record is withheld too.

Consent history is append-only; the current state is derived from it:

- Events apply in time order (`at`; equal times keep their append order).
- A grant replaces the previous grant entirely — scope, expiry, guardian, notice
  version. A new consent is a new agreement (Art. 14: informed, specific, renewed when
  purpose or means change), so a narrower re-grant narrows.
- A withdrawal ends the consent for the next request (Art. 15); processing already done
  stays lawful, which is why nothing here reaches back. A withdrawn state carries no
  scope. Withdrawal is purpose-wide; to drop one scope, grant anew without it.
- An expired consent counts as none: valid means granted, not withdrawn, and
  `expires_at` strictly after `now`.

Everything here is pure and fast: build one `PurposeRules` per purpose and call its
`decide` for every record of a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, Protocol

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from policies.catalog import Entity, Sensitivity
from policies.errors import PolicyError
from policies.purposes import LegalBasis

GUARDIAN_AGE = 14
"""Under this age, consent comes from a parent or guardian (Art. 31)."""


class SeparateScope(StrEnum):
    """Consents PIPL requires separately from the purpose-level one."""

    SENSITIVE = "sensitive"  # Art. 29
    THIRD_PARTY = "third_party"  # Art. 23
    PUBLIC_DISCLOSURE = "public_disclosure"  # Art. 25
    CROSS_BORDER = "cross_border"  # Art. 39


class WithholdReason(StrEnum):
    """Stable machine words for what consent or scope withholds (`reason` in errors)."""

    NO_CONSENT = "no_consent"
    NO_SEPARATE_CONSENT = "no_separate_consent"
    GUARDIAN_CONSENT_REQUIRED = "guardian_consent_required"
    OUTSIDE_PURPOSE = "outside_purpose"


class ConsentRecordError(PolicyError):
    """A consent event that cannot be recorded as given; the message says why."""


class ConsentPurpose(Protocol):
    """What the consent decision needs to know about a purpose."""

    @property
    def id(self) -> str: ...

    @property
    def legal_basis(self) -> LegalBasis: ...

    @property
    def requires_consent(self) -> bool: ...

    @property
    def separate_scopes_required(self) -> frozenset[str]: ...

    def allows_category(self, category: str) -> bool: ...


ConsentKind = Literal["grant", "withdraw"]


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One entry of the append-only consent history of a customer for a purpose."""

    customer_id: str
    purpose: str
    kind: ConsentKind
    at: datetime
    channel: str
    notice_version: str
    """Version of the privacy notice the customer was shown (Art. 17)."""
    evidence_hash: str | None = None
    expires_at: datetime | None = None
    separate: frozenset[SeparateScope] = frozenset()
    guardian_ref: str | None = None
    """Who gave consent for a minor under 14 (Art. 31); None when the customer did."""
    recorded_by: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("grant", "withdraw"):
            msg = f"consent event kind must be 'grant' or 'withdraw', not {self.kind!r}"
            raise ConsentRecordError(msg)
        if self.at.utcoffset() is None:
            msg = "consent event time must carry a time zone"
            raise ConsentRecordError(msg)
        try:
            scopes = frozenset(SeparateScope(scope) for scope in self.separate)
        except ValueError:
            allowed = ", ".join(scope.value for scope in SeparateScope)
            msg = f"separate consent scopes must be among {allowed}"
            raise ConsentRecordError(msg) from None
        # Normalise plain strings to the enum so states compare and print alike.
        object.__setattr__(self, "separate", scopes)
        if self.guardian_ref == "":
            msg = "guardian_ref must name the guardian or be absent"
            raise ConsentRecordError(msg)
        if self.kind == "withdraw":
            if scopes or self.expires_at is not None or self.guardian_ref is not None:
                msg = "a withdrawal ends the whole consent: it takes no scope, expiry or guardian"
                raise ConsentRecordError(msg)
        elif self.expires_at is not None:
            if self.expires_at.utcoffset() is None:
                msg = "consent expiry must carry a time zone"
                raise ConsentRecordError(msg)
            if self.expires_at <= self.at:
                msg = "consent expiry must be after the time it is granted"
                raise ConsentRecordError(msg)


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The current consent of one customer for one purpose, derived from its history."""

    purpose: str
    granted: bool
    granted_at: datetime | None
    expires_at: datetime | None
    separate: frozenset[SeparateScope]
    guardian_ref: str | None
    withdrawn_at: datetime | None
    notice_version: str
    channel: str


def derive_states(events: Iterable[ConsentEvent]) -> dict[tuple[str, str], ConsentState]:
    """Current state per (customer_id, purpose) from their consent events."""
    states: dict[tuple[str, str], ConsentState] = {}
    # sorted() is stable: events at the same instant apply in the order they were appended.
    for event in sorted(events, key=lambda e: e.at):
        key = (event.customer_id, event.purpose)
        previous = states.get(key)
        if event.kind == "grant":
            states[key] = ConsentState(
                purpose=event.purpose,
                granted=True,
                granted_at=event.at,
                expires_at=event.expires_at,
                separate=event.separate,
                guardian_ref=event.guardian_ref,
                withdrawn_at=None,
                notice_version=event.notice_version,
                channel=event.channel,
            )
        elif previous is None:
            states[key] = ConsentState(
                purpose=event.purpose,
                granted=False,
                granted_at=None,
                expires_at=None,
                separate=frozenset(),
                guardian_ref=None,
                withdrawn_at=event.at,
                notice_version=event.notice_version,
                channel=event.channel,
            )
        elif previous.granted:
            # Keep what was granted, for display; drop the scope it no longer gives.
            states[key] = replace(
                previous,
                granted=False,
                withdrawn_at=event.at,
                separate=frozenset(),
                guardian_ref=None,
            )
        # A second withdrawal ends nothing: the first one's time stands.
    return states


def is_valid(state: ConsentState | None, now: datetime) -> bool:
    """Granted, not withdrawn, and not expired at `now` (expiry is exclusive)."""
    return (
        state is not None
        and state.granted
        and state.withdrawn_at is None
        and (state.expires_at is None or now < state.expires_at)
    )


# --- age -------------------------------------------------------------------------------


def is_minor(birth_date: date, today: date) -> bool:
    """Under 14 on `today`."""
    # (month, day) comparison: a 29 February birthday is reached on 1 March of a common year.
    age = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    return age < GUARDIAN_AGE


@dataclass(frozen=True, slots=True)
class Age:
    """What a customer's stored data tells about their age: the one age rule."""

    born: date | None
    unreadable: bool = False
    """Birth data is stored but cannot be read (decryption failed, or it does not parse)."""

    def minor_on(self, day: date) -> bool:
        """Under 14 on `day`; an age that cannot be read counts as a minor's (fail
        closed: a guardian's consent is required); no birth data at all does not."""
        if self.born is None:
            return self.unreadable
        return is_minor(self.born, day)


def age_of(birth_date: object, id_number: object, *, unreadable: bool = False) -> Age:
    """A customer's age from the plaintext `birth_date` and `id_number` (either may be
    absent); `unreadable` when one of them is stored but failed to decrypt."""
    birth = birth_date if isinstance(birth_date, str) and birth_date else None
    number = id_number if isinstance(id_number, str) and id_number else None
    born = birth_date_for(birth, number)
    stored_but_unparsed = birth is not None or number is not None
    return Age(born, unreadable=born is None and (unreadable or stored_but_unparsed))


_RIC_18 = re.compile(r"[0-9]{17}[0-9X]")
_RIC_15 = re.compile(r"[0-9]{15}")


def birth_date_for(birth_date: str | None, id_number: str | None) -> date | None:
    """The customer's birth date: the `birth_date` field, else read from the resident ID.

    The check digit is not verified: a typo in it must not make a child an adult, and
    validating the number is the write path's job. Values that do not parse give None.
    """
    if birth_date:
        try:
            return date.fromisoformat(birth_date)
        except ValueError:
            pass  # fall back to the ID number
    if not id_number:
        return None
    number = ric.compact(id_number)
    try:
        if _RIC_18.fullmatch(number):
            return ric.get_birth_date(number)
        # First-generation 15-digit numbers (withdrawn 2013) hold YYMMDD of a 19xx birth.
        if _RIC_15.fullmatch(number):
            return date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except (ValidationError, ValueError):
        return None
    return None


# --- decision --------------------------------------------------------------------------


_NO_REASONS: Mapping[str, str] = MappingProxyType({})


def record_fields(entity: Entity, shown: Iterable[str]) -> tuple[tuple[str, str, bool], ...]:
    """The `fields` argument of `decide` for the fields of `entity` a caller is shown:
    (name, data category, sensitive), in catalog order."""
    names = frozenset(shown)
    return tuple(
        (spec.name, spec.category, spec.sensitivity is Sensitivity.SENSITIVE)
        for spec in entity.fields
        if spec.name in names
    )


@dataclass(frozen=True, slots=True)
class RecordDecision:
    """What consent and purpose scope withhold from one record.

    `withheld_reason` set: the whole record is withheld (403 on a single read, left out
    of a list). `field_reasons` names the fields withheld by consent or scope; the field
    plan's own denials are not repeated here.
    """

    withheld_reason: str | None = None
    field_reasons: Mapping[str, str] = field(default_factory=lambda: _NO_REASONS)

    @property
    def withheld(self) -> bool:
        return self.withheld_reason is not None


# Bases under which sensitive fields still need separate consent: consent by law
# (Art. 29), contract by house rule (see the module docstring).
_SENSITIVE_NEEDS_CONSENT = frozenset({LegalBasis.CONSENT, LegalBasis.CONTRACT})


class PurposeRules:
    """The consent rules of one purpose, prepared once and applied to every record."""

    __slots__ = (
        "_allowed",
        "_purpose",
        "legal_basis",
        "purpose_id",
        "requires_consent",
        "scopes_required",
        "sensitive_needs_consent",
    )

    def __init__(self, purpose: ConsentPurpose) -> None:
        self._purpose = purpose
        self.purpose_id = purpose.id
        self.legal_basis = purpose.legal_basis
        self.requires_consent = purpose.requires_consent
        try:
            self.scopes_required = frozenset(
                SeparateScope(scope) for scope in purpose.separate_scopes_required
            )
        except ValueError:
            msg = f"purpose {purpose.id!r} requires an unknown separate consent scope"
            raise PolicyError(msg) from None
        self.sensitive_needs_consent = purpose.legal_basis in _SENSITIVE_NEEDS_CONSENT
        # Categories are few and fixed per catalog: ask the purpose once per category.
        self._allowed: dict[str, bool] = {}

    def allows_category(self, category: str) -> bool:
        allowed = self._allowed.get(category)
        if allowed is None:
            allowed = self._allowed[category] = self._purpose.allows_category(category)
        return allowed

    def decide(
        self,
        state: ConsentState | None,
        *,
        minor: bool,
        fields: Sequence[tuple[str, str, bool]],
        now: datetime,
    ) -> RecordDecision:
        """Decide one record, given its customer's consent state for this purpose.

        `fields` are the fields in hand as (name, data category, sensitive).
        """
        reasons: dict[str, str] = {}
        sensitive: list[str] = []
        for name, category, is_sensitive in fields:
            if not self.allows_category(category):
                reasons[name] = WithholdReason.OUTSIDE_PURPOSE
            elif is_sensitive:
                sensitive.append(name)
        valid = is_valid(state, now)

        record_reason = self._record_reason(state if valid else None, minor=minor)
        if record_reason is not None:
            return RecordDecision(record_reason, _frozen(reasons))

        if sensitive and self.sensitive_needs_consent:
            field_reason: str | None = None
            if not valid or state is None or SeparateScope.SENSITIVE not in state.separate:
                field_reason = WithholdReason.NO_SEPARATE_CONSENT
            elif minor and state.guardian_ref is None:
                field_reason = WithholdReason.GUARDIAN_CONSENT_REQUIRED
            if field_reason is not None:
                for name in sensitive:
                    reasons[name] = field_reason
        return RecordDecision(None, _frozen(reasons))

    def _record_reason(self, valid_state: ConsentState | None, *, minor: bool) -> str | None:
        if not self.requires_consent:
            return None
        if valid_state is None:
            return WithholdReason.NO_CONSENT
        if minor and valid_state.guardian_ref is None:
            return WithholdReason.GUARDIAN_CONSENT_REQUIRED
        if not self.scopes_required <= valid_state.separate:
            return WithholdReason.NO_SEPARATE_CONSENT
        return None


def _frozen(reasons: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(reasons) if reasons else _NO_REASONS


def decide(
    purpose: ConsentPurpose,
    state: ConsentState | None,
    *,
    minor: bool,
    fields: Sequence[tuple[str, str, bool]],
    now: datetime,
) -> RecordDecision:
    """One record's decision. For a page, build `PurposeRules(purpose)` once instead."""
    return PurposeRules(purpose).decide(state, minor=minor, fields=fields, now=now)
