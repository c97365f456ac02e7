"""PIPL consent decisions: basis × consent state × field sensitivity × age, as a table."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from stdnum.cn import ric

from policies.consent import (
    ConsentEvent,
    ConsentRecordError,
    ConsentState,
    PurposeRules,
    RecordDecision,
    SeparateScope,
    age_of,
    birth_date_for,
    decide,
    derive_states,
    is_minor,
    is_valid,
)
from policies.errors import PolicyError
from policies.purposes import LegalBasis, Purpose

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class FakePurpose:
    """Stands in for policies.purposes.Purpose: exactly the ConsentPurpose members."""

    id: str
    legal_basis: LegalBasis
    separate_scopes_required: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset({"contact.phone", "identity.national_id"})

    @property
    def requires_consent(self) -> bool:
        return self.legal_basis is LegalBasis.CONSENT

    def allows_category(self, category: str) -> bool:
        return category in self.categories


PURPOSES = {
    "consent": FakePurpose("marketing", LegalBasis.CONSENT),
    "contract": FakePurpose("customer_service", LegalBasis.CONTRACT),
    "legal_obligation": FakePurpose("compliance_audit", LegalBasis.LEGAL_OBLIGATION),
    "third_party": FakePurpose("partner_offers", LegalBasis.CONSENT, frozenset({"third_party"})),
    "cross_border": FakePurpose("global_crm", LegalBasis.CONSENT, frozenset({"cross_border"})),
    "public_disclosure": FakePurpose(
        "winners_list", LegalBasis.CONSENT, frozenset({"public_disclosure"})
    ),
}

S = SeparateScope
ALL_SCOPES = frozenset(SeparateScope)
NOT_SENSITIVE = frozenset({S.THIRD_PARTY, S.PUBLIC_DISCLOSURE, S.CROSS_BORDER})


def state(
    separate: frozenset[SeparateScope] = frozenset(),
    *,
    guardian: str | None = None,
    expires_at: datetime | None = None,
    withdrawn: bool = False,
) -> ConsentState:
    return ConsentState(
        purpose="p",
        granted=not withdrawn,
        granted_at=NOW - 30 * DAY,
        expires_at=expires_at,
        separate=separate,
        guardian_ref=guardian,
        withdrawn_at=NOW - DAY if withdrawn else None,
        notice_version="v3",
        channel="app",
    )


STATES: dict[str, ConsentState | None] = {
    "none": None,
    # purpose-level consent only: no separate scope, no guardian
    "granted": state(),
    "expired": state(ALL_SCOPES, guardian="g-1", expires_at=NOW - DAY),
    "withdrawn": state(ALL_SCOPES, guardian="g-1", withdrawn=True),
    "no_sensitive": state(NOT_SENSITIVE, guardian="g-1"),
    "no_guardian": state(ALL_SCOPES),
    "everything": state(ALL_SCOPES, guardian="g-1"),
    # sensitive and third party only: cross-border and disclosure purposes still lack theirs
    "sensitive_third_party": state(frozenset({S.SENSITIVE, S.THIRD_PARTY}), guardian="g-1"),
}

# The field under test, and one more field every case carries whose category no test
# purpose covers: it must always come back `outside_purpose`.
FIELDS = {
    "general": ("phone", "contact.phone", False),
    "sensitive": ("id_number", "identity.national_id", True),
}
OUTSIDE = ("tier", "commercial.segment", False)

NC = "no_consent"
NSC = "no_separate_consent"
GCR = "guardian_consent_required"
OK = None

# purpose, consent state, field, age -> (record reason, reason for the field under test)
# fmt: off
TABLE: dict[tuple[str, str, str, str], tuple[str | None, str | None]] = {
    # --- basis consent, no extra scope -----------------------------------------------
    ("consent", "none", "general", "adult"): (NC, OK),
    ("consent", "none", "general", "minor"): (NC, OK),
    ("consent", "none", "sensitive", "adult"): (NC, OK),
    ("consent", "none", "sensitive", "minor"): (NC, OK),
    ("consent", "granted", "general", "adult"): (OK, OK),
    ("consent", "granted", "general", "minor"): (GCR, OK),
    ("consent", "granted", "sensitive", "adult"): (OK, NSC),
    ("consent", "granted", "sensitive", "minor"): (GCR, OK),
    ("consent", "expired", "general", "adult"): (NC, OK),
    ("consent", "expired", "general", "minor"): (NC, OK),
    ("consent", "expired", "sensitive", "adult"): (NC, OK),
    ("consent", "expired", "sensitive", "minor"): (NC, OK),
    ("consent", "withdrawn", "general", "adult"): (NC, OK),
    ("consent", "withdrawn", "general", "minor"): (NC, OK),
    ("consent", "withdrawn", "sensitive", "adult"): (NC, OK),
    ("consent", "withdrawn", "sensitive", "minor"): (NC, OK),
    ("consent", "no_sensitive", "general", "adult"): (OK, OK),
    ("consent", "no_sensitive", "general", "minor"): (OK, OK),
    ("consent", "no_sensitive", "sensitive", "adult"): (OK, NSC),
    ("consent", "no_sensitive", "sensitive", "minor"): (OK, NSC),
    ("consent", "no_guardian", "general", "adult"): (OK, OK),
    ("consent", "no_guardian", "general", "minor"): (GCR, OK),
    ("consent", "no_guardian", "sensitive", "adult"): (OK, OK),
    ("consent", "no_guardian", "sensitive", "minor"): (GCR, OK),
    ("consent", "everything", "general", "adult"): (OK, OK),
    ("consent", "everything", "general", "minor"): (OK, OK),
    ("consent", "everything", "sensitive", "adult"): (OK, OK),
    ("consent", "everything", "sensitive", "minor"): (OK, OK),
    ("consent", "sensitive_third_party", "general", "adult"): (OK, OK),
    ("consent", "sensitive_third_party", "general", "minor"): (OK, OK),
    ("consent", "sensitive_third_party", "sensitive", "adult"): (OK, OK),
    ("consent", "sensitive_third_party", "sensitive", "minor"): (OK, OK),
    # --- basis contract: no consent for the record; sensitive fields need it ---------
    ("contract", "none", "general", "adult"): (OK, OK),
    ("contract", "none", "general", "minor"): (OK, OK),
    ("contract", "none", "sensitive", "adult"): (OK, NSC),
    ("contract", "none", "sensitive", "minor"): (OK, NSC),
    ("contract", "granted", "general", "adult"): (OK, OK),
    ("contract", "granted", "general", "minor"): (OK, OK),
    ("contract", "granted", "sensitive", "adult"): (OK, NSC),
    ("contract", "granted", "sensitive", "minor"): (OK, NSC),
    ("contract", "expired", "general", "adult"): (OK, OK),
    ("contract", "expired", "general", "minor"): (OK, OK),
    ("contract", "expired", "sensitive", "adult"): (OK, NSC),
    ("contract", "expired", "sensitive", "minor"): (OK, NSC),
    ("contract", "withdrawn", "general", "adult"): (OK, OK),
    ("contract", "withdrawn", "general", "minor"): (OK, OK),
    ("contract", "withdrawn", "sensitive", "adult"): (OK, NSC),
    ("contract", "withdrawn", "sensitive", "minor"): (OK, NSC),
    ("contract", "no_sensitive", "general", "adult"): (OK, OK),
    ("contract", "no_sensitive", "general", "minor"): (OK, OK),
    ("contract", "no_sensitive", "sensitive", "adult"): (OK, NSC),
    ("contract", "no_sensitive", "sensitive", "minor"): (OK, NSC),
    ("contract", "no_guardian", "general", "adult"): (OK, OK),
    ("contract", "no_guardian", "general", "minor"): (OK, OK),
    ("contract", "no_guardian", "sensitive", "adult"): (OK, OK),
    ("contract", "no_guardian", "sensitive", "minor"): (OK, GCR),
    ("contract", "everything", "general", "adult"): (OK, OK),
    ("contract", "everything", "general", "minor"): (OK, OK),
    ("contract", "everything", "sensitive", "adult"): (OK, OK),
    ("contract", "everything", "sensitive", "minor"): (OK, OK),
    ("contract", "sensitive_third_party", "general", "adult"): (OK, OK),
    ("contract", "sensitive_third_party", "general", "minor"): (OK, OK),
    ("contract", "sensitive_third_party", "sensitive", "adult"): (OK, OK),
    ("contract", "sensitive_third_party", "sensitive", "minor"): (OK, OK),
    # --- basis legal obligation: consent plays no part --------------------------------
    ("legal_obligation", "none", "general", "adult"): (OK, OK),
    ("legal_obligation", "none", "general", "minor"): (OK, OK),
    ("legal_obligation", "none", "sensitive", "adult"): (OK, OK),
    ("legal_obligation", "none", "sensitive", "minor"): (OK, OK),
    ("legal_obligation", "granted", "general", "adult"): (OK, OK),
    ("legal_obligation", "granted", "general", "minor"): (OK, OK),
    ("legal_obligation", "granted", "sensitive", "adult"): (OK, OK),
    ("legal_obligation", "granted", "sensitive", "minor"): (OK, OK),
    ("legal_obligation", "expired", "general", "adult"): (OK, OK),
    ("legal_obligation", "expired", "general", "minor"): (OK, OK),
    ("legal_obligation", "expired", "sensitive", "adult"): (OK, OK),
    ("legal_obligation", "expired", "sensitive", "minor"): (OK, OK),
    ("legal_obligation", "withdrawn", "general", "adult"): (OK, OK),
    ("legal_obligation", "withdrawn", "general", "minor"): (OK, OK),
    ("legal_obligation", "withdrawn", "sensitive", "adult"): (OK, OK),
    ("legal_obligation", "withdrawn", "sensitive", "minor"): (OK, OK),
    ("legal_obligation", "no_sensitive", "general", "adult"): (OK, OK),
    ("legal_obligation", "no_sensitive", "general", "minor"): (OK, OK),
    ("legal_obligation", "no_sensitive", "sensitive", "adult"): (OK, OK),
    ("legal_obligation", "no_sensitive", "sensitive", "minor"): (OK, OK),
    ("legal_obligation", "no_guardian", "general", "adult"): (OK, OK),
    ("legal_obligation", "no_guardian", "general", "minor"): (OK, OK),
    ("legal_obligation", "no_guardian", "sensitive", "adult"): (OK, OK),
    ("legal_obligation", "no_guardian", "sensitive", "minor"): (OK, OK),
    ("legal_obligation", "everything", "general", "adult"): (OK, OK),
    ("legal_obligation", "everything", "general", "minor"): (OK, OK),
    ("legal_obligation", "everything", "sensitive", "adult"): (OK, OK),
    ("legal_obligation", "everything", "sensitive", "minor"): (OK, OK),
    ("legal_obligation", "sensitive_third_party", "general", "adult"): (OK, OK),
    ("legal_obligation", "sensitive_third_party", "general", "minor"): (OK, OK),
    ("legal_obligation", "sensitive_third_party", "sensitive", "adult"): (OK, OK),
    ("legal_obligation", "sensitive_third_party", "sensitive", "minor"): (OK, OK),
    # --- basis consent, provision to a third party (Art. 23) -------------------------
    ("third_party", "none", "general", "adult"): (NC, OK),
    ("third_party", "none", "general", "minor"): (NC, OK),
    ("third_party", "none", "sensitive", "adult"): (NC, OK),
    ("third_party", "none", "sensitive", "minor"): (NC, OK),
    ("third_party", "granted", "general", "adult"): (NSC, OK),
    ("third_party", "granted", "general", "minor"): (GCR, OK),
    ("third_party", "granted", "sensitive", "adult"): (NSC, OK),
    ("third_party", "granted", "sensitive", "minor"): (GCR, OK),
    ("third_party", "expired", "general", "adult"): (NC, OK),
    ("third_party", "expired", "general", "minor"): (NC, OK),
    ("third_party", "expired", "sensitive", "adult"): (NC, OK),
    ("third_party", "expired", "sensitive", "minor"): (NC, OK),
    ("third_party", "withdrawn", "general", "adult"): (NC, OK),
    ("third_party", "withdrawn", "general", "minor"): (NC, OK),
    ("third_party", "withdrawn", "sensitive", "adult"): (NC, OK),
    ("third_party", "withdrawn", "sensitive", "minor"): (NC, OK),
    ("third_party", "no_sensitive", "general", "adult"): (OK, OK),
    ("third_party", "no_sensitive", "general", "minor"): (OK, OK),
    ("third_party", "no_sensitive", "sensitive", "adult"): (OK, NSC),
    ("third_party", "no_sensitive", "sensitive", "minor"): (OK, NSC),
    ("third_party", "no_guardian", "general", "adult"): (OK, OK),
    ("third_party", "no_guardian", "general", "minor"): (GCR, OK),
    ("third_party", "no_guardian", "sensitive", "adult"): (OK, OK),
    ("third_party", "no_guardian", "sensitive", "minor"): (GCR, OK),
    ("third_party", "everything", "general", "adult"): (OK, OK),
    ("third_party", "everything", "general", "minor"): (OK, OK),
    ("third_party", "everything", "sensitive", "adult"): (OK, OK),
    ("third_party", "everything", "sensitive", "minor"): (OK, OK),
    ("third_party", "sensitive_third_party", "general", "adult"): (OK, OK),
    ("third_party", "sensitive_third_party", "general", "minor"): (OK, OK),
    ("third_party", "sensitive_third_party", "sensitive", "adult"): (OK, OK),
    ("third_party", "sensitive_third_party", "sensitive", "minor"): (OK, OK),
    # --- basis consent, cross-border transfer (Art. 39) ------------------------------
    ("cross_border", "none", "general", "adult"): (NC, OK),
    ("cross_border", "none", "general", "minor"): (NC, OK),
    ("cross_border", "none", "sensitive", "adult"): (NC, OK),
    ("cross_border", "none", "sensitive", "minor"): (NC, OK),
    ("cross_border", "granted", "general", "adult"): (NSC, OK),
    ("cross_border", "granted", "general", "minor"): (GCR, OK),
    ("cross_border", "granted", "sensitive", "adult"): (NSC, OK),
    ("cross_border", "granted", "sensitive", "minor"): (GCR, OK),
    ("cross_border", "expired", "general", "adult"): (NC, OK),
    ("cross_border", "expired", "general", "minor"): (NC, OK),
    ("cross_border", "expired", "sensitive", "adult"): (NC, OK),
    ("cross_border", "expired", "sensitive", "minor"): (NC, OK),
    ("cross_border", "withdrawn", "general", "adult"): (NC, OK),
    ("cross_border", "withdrawn", "general", "minor"): (NC, OK),
    ("cross_border", "withdrawn", "sensitive", "adult"): (NC, OK),
    ("cross_border", "withdrawn", "sensitive", "minor"): (NC, OK),
    ("cross_border", "no_sensitive", "general", "adult"): (OK, OK),
    ("cross_border", "no_sensitive", "general", "minor"): (OK, OK),
    ("cross_border", "no_sensitive", "sensitive", "adult"): (OK, NSC),
    ("cross_border", "no_sensitive", "sensitive", "minor"): (OK, NSC),
    ("cross_border", "no_guardian", "general", "adult"): (OK, OK),
    ("cross_border", "no_guardian", "general", "minor"): (GCR, OK),
    ("cross_border", "no_guardian", "sensitive", "adult"): (OK, OK),
    ("cross_border", "no_guardian", "sensitive", "minor"): (GCR, OK),
    ("cross_border", "everything", "general", "adult"): (OK, OK),
    ("cross_border", "everything", "general", "minor"): (OK, OK),
    ("cross_border", "everything", "sensitive", "adult"): (OK, OK),
    ("cross_border", "everything", "sensitive", "minor"): (OK, OK),
    ("cross_border", "sensitive_third_party", "general", "adult"): (NSC, OK),
    ("cross_border", "sensitive_third_party", "general", "minor"): (NSC, OK),
    ("cross_border", "sensitive_third_party", "sensitive", "adult"): (NSC, OK),
    ("cross_border", "sensitive_third_party", "sensitive", "minor"): (NSC, OK),
    # --- basis consent, public disclosure (Art. 25) ----------------------------------
    ("public_disclosure", "none", "general", "adult"): (NC, OK),
    ("public_disclosure", "none", "general", "minor"): (NC, OK),
    ("public_disclosure", "none", "sensitive", "adult"): (NC, OK),
    ("public_disclosure", "none", "sensitive", "minor"): (NC, OK),
    ("public_disclosure", "granted", "general", "adult"): (NSC, OK),
    ("public_disclosure", "granted", "general", "minor"): (GCR, OK),
    ("public_disclosure", "granted", "sensitive", "adult"): (NSC, OK),
    ("public_disclosure", "granted", "sensitive", "minor"): (GCR, OK),
    ("public_disclosure", "expired", "general", "adult"): (NC, OK),
    ("public_disclosure", "expired", "general", "minor"): (NC, OK),
    ("public_disclosure", "expired", "sensitive", "adult"): (NC, OK),
    ("public_disclosure", "expired", "sensitive", "minor"): (NC, OK),
    ("public_disclosure", "withdrawn", "general", "adult"): (NC, OK),
    ("public_disclosure", "withdrawn", "general", "minor"): (NC, OK),
    ("public_disclosure", "withdrawn", "sensitive", "adult"): (NC, OK),
    ("public_disclosure", "withdrawn", "sensitive", "minor"): (NC, OK),
    ("public_disclosure", "no_sensitive", "general", "adult"): (OK, OK),
    ("public_disclosure", "no_sensitive", "general", "minor"): (OK, OK),
    ("public_disclosure", "no_sensitive", "sensitive", "adult"): (OK, NSC),
    ("public_disclosure", "no_sensitive", "sensitive", "minor"): (OK, NSC),
    ("public_disclosure", "no_guardian", "general", "adult"): (OK, OK),
    ("public_disclosure", "no_guardian", "general", "minor"): (GCR, OK),
    ("public_disclosure", "no_guardian", "sensitive", "adult"): (OK, OK),
    ("public_disclosure", "no_guardian", "sensitive", "minor"): (GCR, OK),
    ("public_disclosure", "everything", "general", "adult"): (OK, OK),
    ("public_disclosure", "everything", "general", "minor"): (OK, OK),
    ("public_disclosure", "everything", "sensitive", "adult"): (OK, OK),
    ("public_disclosure", "everything", "sensitive", "minor"): (OK, OK),
    ("public_disclosure", "sensitive_third_party", "general", "adult"): (NSC, OK),
    ("public_disclosure", "sensitive_third_party", "general", "minor"): (NSC, OK),
    ("public_disclosure", "sensitive_third_party", "sensitive", "adult"): (NSC, OK),
    ("public_disclosure", "sensitive_third_party", "sensitive", "minor"): (NSC, OK),
}
# fmt: on


def test_the_table_covers_every_combination() -> None:
    """Every purpose × state × field × age appears in the table, and nothing else."""
    dimensions = (PURPOSES, STATES, FIELDS, ("adult", "minor"))
    assert set(TABLE) == set(itertools.product(*dimensions))


@pytest.mark.parametrize(
    ("purpose", "consent", "sensitivity", "age", "record_reason", "field_reason"),
    [(*key, *expected) for key, expected in TABLE.items()],
    ids=["-".join(key) for key in TABLE],
)
def test_decision_table(
    purpose: str,
    consent: str,
    sensitivity: str,
    age: str,
    record_reason: str | None,
    field_reason: str | None,
) -> None:
    field = FIELDS[sensitivity]
    expected_fields = {OUTSIDE[0]: "outside_purpose"}
    if field_reason is not None:
        expected_fields[field[0]] = field_reason

    decision = decide(
        PURPOSES[purpose], STATES[consent], minor=age == "minor", fields=[field, OUTSIDE], now=NOW
    )

    assert decision.withheld_reason == record_reason
    assert dict(decision.field_reasons) == expected_fields


@pytest.mark.parametrize(
    "basis",
    [
        LegalBasis.HR_MANAGEMENT,
        LegalBasis.EMERGENCY,
        LegalBasis.NEWS_PUBLIC_INTEREST,
        LegalBasis.PUBLISHED_DATA,
        LegalBasis.OTHER_LAW,
    ],
)
def test_given_other_non_consent_bases_then_a_minors_sensitive_fields_need_no_consent(
    basis: LegalBasis,
) -> None:
    purpose = FakePurpose("p", basis)
    decision = decide(purpose, None, minor=True, fields=[FIELDS["sensitive"]], now=NOW)
    assert decision == RecordDecision()


def test_given_a_sensitive_field_outside_the_purpose_then_outside_purpose_wins() -> None:
    purpose = FakePurpose("p", LegalBasis.CONTRACT, categories=frozenset({"contact.phone"}))
    fields = [FIELDS["general"], FIELDS["sensitive"]]
    decision = decide(purpose, None, minor=False, fields=fields, now=NOW)
    assert dict(decision.field_reasons) == {"id_number": "outside_purpose"}


def test_given_several_sensitive_fields_then_each_is_withheld() -> None:
    fields = [("id_number", "identity.national_id", True), ("bank_card", "financial.account", True)]
    purpose = FakePurpose(
        "p",
        LegalBasis.CONTRACT,
        categories=frozenset({"identity.national_id", "financial.account"}),
    )
    decision = decide(purpose, STATES["granted"], minor=False, fields=fields, now=NOW)
    assert dict(decision.field_reasons) == {
        "id_number": "no_separate_consent",
        "bank_card": "no_separate_consent",
    }


def test_purpose_rules_ask_the_purpose_once_per_category() -> None:
    """The per-record path does not go back to the purpose for a category it has seen."""
    asked: list[str] = []

    @dataclass(frozen=True)
    class CountingPurpose(FakePurpose):
        def allows_category(self, category: str) -> bool:
            asked.append(category)
            return super().allows_category(category)

    rules = PurposeRules(CountingPurpose("p", LegalBasis.CONSENT))
    for _ in range(3):
        rules.decide(
            STATES["everything"], minor=False, fields=[FIELDS["general"], OUTSIDE], now=NOW
        )
    assert asked == ["contact.phone", "commercial.segment"]


def test_given_an_unknown_required_scope_then_the_rules_refuse_the_purpose() -> None:
    with pytest.raises(PolicyError, match="unknown separate consent scope"):
        PurposeRules(FakePurpose("p", LegalBasis.CONSENT, frozenset({"telepathy"})))


def test_the_real_purpose_class_fits_the_consent_rules() -> None:
    """policies.purposes.Purpose satisfies ConsentPurpose: scopes and categories carry over."""
    purpose = Purpose(
        id="partner_offers",
        name_zh="合作方优惠",
        name_en="Partner offers",
        legal_basis=LegalBasis.CONSENT,
        categories=frozenset({"contact.*"}),
        third_party=True,
    )
    rules = PurposeRules(purpose)
    fields = [FIELDS["general"], FIELDS["sensitive"]]
    granted = rules.decide(STATES["granted"], minor=False, fields=fields, now=NOW)
    assert granted.withheld_reason == "no_separate_consent"
    decision = rules.decide(STATES["sensitive_third_party"], minor=False, fields=fields, now=NOW)
    assert decision == RecordDecision(None, {"id_number": "outside_purpose"})


# --- derived state ---------------------------------------------------------------------


def event(
    kind: str,
    at: datetime,
    separate: frozenset[SeparateScope] = frozenset(),
    *,
    customer: str = "cus_1",
    purpose: str = "marketing",
    guardian: str | None = None,
    expires_at: datetime | None = None,
    notice: str = "v1",
) -> ConsentEvent:
    return ConsentEvent(
        customer_id=customer,
        purpose=purpose,
        kind=kind,  # type: ignore[arg-type]
        at=at,
        channel="app",
        notice_version=notice,
        evidence_hash="sha256:ab" if kind == "grant" else None,
        expires_at=expires_at,
        separate=separate,
        guardian_ref=guardian,
        recorded_by="support-desk",
    )


T0 = NOW - 10 * DAY


def test_grant_withdraw_grant_gives_the_second_grant() -> None:
    states = derive_states(
        [
            event("grant", T0, frozenset({S.SENSITIVE}), notice="v1"),
            event("withdraw", T0 + DAY),
            event("grant", T0 + 2 * DAY, frozenset({S.THIRD_PARTY}), notice="v2"),
        ]
    )
    current = states["cus_1", "marketing"]
    assert is_valid(current, NOW)
    assert current.granted_at == T0 + 2 * DAY
    assert current.withdrawn_at is None
    assert current.separate == {S.THIRD_PARTY}
    assert current.notice_version == "v2"


def test_given_a_withdrawal_then_the_consent_ends_and_carries_no_scope() -> None:
    states = derive_states(
        [
            event("grant", T0, ALL_SCOPES, guardian="g-1"),
            event("withdraw", T0 + DAY),
        ]
    )
    current = states["cus_1", "marketing"]
    assert not is_valid(current, NOW)
    assert current.withdrawn_at == T0 + DAY
    assert current.granted_at == T0
    assert current.separate == frozenset()
    assert current.guardian_ref is None


def test_a_new_grant_replaces_the_previous_scope_expiry_and_guardian() -> None:
    states = derive_states(
        [
            event("grant", T0, ALL_SCOPES, guardian="g-1", expires_at=NOW + DAY),
            event("grant", T0 + DAY, frozenset({S.THIRD_PARTY})),
        ]
    )
    current = states["cus_1", "marketing"]
    assert current.separate == {S.THIRD_PARTY}
    assert current.guardian_ref is None
    assert current.expires_at is None
    assert current.granted_at == T0 + DAY


def test_events_apply_in_time_order_whatever_order_they_come_in() -> None:
    later_withdrawal = event("withdraw", T0 + DAY)
    grant = event("grant", T0)
    assert not is_valid(derive_states([later_withdrawal, grant])["cus_1", "marketing"], NOW)


def test_events_at_the_same_instant_apply_in_append_order() -> None:
    grant, withdrawal = event("grant", T0), event("withdraw", T0)
    assert not is_valid(derive_states([grant, withdrawal])["cus_1", "marketing"], NOW)
    assert is_valid(derive_states([withdrawal, grant])["cus_1", "marketing"], NOW)


def test_a_second_withdrawal_keeps_the_first_ones_time() -> None:
    states = derive_states(
        [event("grant", T0), event("withdraw", T0 + DAY), event("withdraw", T0 + 2 * DAY)]
    )
    assert states["cus_1", "marketing"].withdrawn_at == T0 + DAY


def test_a_withdrawal_without_a_grant_is_a_withdrawn_state() -> None:
    current = derive_states([event("withdraw", T0)])["cus_1", "marketing"]
    assert not current.granted
    assert current.granted_at is None
    assert current.withdrawn_at == T0


def test_states_are_kept_per_customer_and_purpose() -> None:
    states = derive_states(
        [
            event("grant", T0, customer="cus_1", purpose="marketing"),
            event("grant", T0, customer="cus_1", purpose="analytics"),
            event("grant", T0, customer="cus_2", purpose="marketing"),
            event("withdraw", T0 + DAY, customer="cus_1", purpose="marketing"),
        ]
    )
    assert not is_valid(states["cus_1", "marketing"], NOW)
    assert is_valid(states["cus_1", "analytics"], NOW)
    assert is_valid(states["cus_2", "marketing"], NOW)


def test_expiry_is_exclusive() -> None:
    """A consent expiring at `now` is already none; a microsecond before it still holds."""
    expiring = state(ALL_SCOPES, guardian="g-1", expires_at=NOW)
    assert not is_valid(expiring, NOW)
    assert is_valid(expiring, NOW - timedelta(microseconds=1))
    decision = decide(PURPOSES["consent"], expiring, minor=False, fields=[], now=NOW)
    assert decision.withheld_reason == "no_consent"


def test_given_no_state_then_not_valid() -> None:
    assert not is_valid(None, NOW)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "revoke"}, "kind"),
        ({"at": datetime(2025, 1, 1)}, "time zone"),  # noqa: DTZ001 - the naive time under test
        ({"separate": frozenset({"telepathy"})}, "scopes"),
        ({"guardian_ref": ""}, "guardian"),
        ({"expires_at": T0}, "after"),
        ({"expires_at": datetime(2030, 1, 1)}, "time zone"),  # noqa: DTZ001
        ({"kind": "withdraw", "separate": frozenset({S.SENSITIVE})}, "whole consent"),
    ],
)
def test_given_a_malformed_event_then_it_is_refused(
    changes: dict[str, object], message: str
) -> None:
    fields: dict[str, object] = {
        "customer_id": "cus_1",
        "purpose": "marketing",
        "kind": "grant",
        "at": T0,
        "channel": "app",
        "notice_version": "v1",
    }
    with pytest.raises(ConsentRecordError, match=message):
        ConsentEvent(**{**fields, **changes})  # type: ignore[arg-type]


def test_scopes_given_as_strings_become_separate_scopes() -> None:
    grant = event("grant", T0, frozenset({"sensitive"}))  # type: ignore[arg-type]
    assert grant.separate == {S.SENSITIVE}
    assert all(type(scope) is SeparateScope for scope in grant.separate)


# --- age -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "today", "minor"),
    [
        (date(2011, 6, 1), date(2025, 6, 1), False),  # 14th birthday today
        (date(2011, 6, 2), date(2025, 6, 1), True),  # 14 tomorrow
        (date(2011, 5, 31), date(2025, 6, 1), False),
        (date(2012, 2, 29), date(2026, 2, 28), True),  # leap-day birthday, common year
        (date(2012, 2, 29), date(2026, 3, 1), False),
        (date(2012, 2, 29), date(2026, 2, 27), True),
        (date(2012, 3, 1), date(2026, 2, 28), True),  # born after a leap day
        (date(2012, 2, 28), date(2026, 2, 28), False),
        (date(1990, 1, 1), date(2025, 6, 1), False),
        (date(2025, 6, 1), date(2025, 6, 1), True),  # born today
    ],
)
def test_is_minor_boundaries(born: date, today: date, minor: bool) -> None:
    assert is_minor(born, today) is minor


def test_given_no_birth_data_at_all_then_not_known_to_be_a_minor() -> None:
    assert age_of(None, None).minor_on(date(2025, 6, 1)) is False
    assert age_of("", "").minor_on(date(2025, 6, 1)) is False


def test_given_birth_data_that_failed_to_decrypt_then_a_minor() -> None:
    """Fail closed (PIPL Art. 31): an age that cannot be read needs a guardian."""
    assert age_of(None, None, unreadable=True).minor_on(date(2025, 6, 1)) is True


def test_given_stored_birth_data_that_does_not_parse_then_a_minor() -> None:
    assert age_of("09/07/1980", None).minor_on(date(2025, 6, 1)) is True
    assert age_of(None, "not-an-id-number").minor_on(date(2025, 6, 1)) is True


def test_given_one_age_field_unreadable_but_the_other_tells_the_age_then_that_age() -> None:
    adult_id = resident_id("11010519800704123")
    assert age_of(None, adult_id, unreadable=True).minor_on(date(2025, 6, 1)) is False
    assert age_of("2015-01-01", None, unreadable=True).minor_on(date(2025, 6, 1)) is True


def resident_id(body: str) -> str:
    """A resident ID number with a correct check digit for its first 17 digits."""
    return body + ric.calc_check_digit(body + "0")


def test_resident_id_helper_makes_valid_numbers() -> None:
    assert ric.is_valid(resident_id("11010520120301002"))
    assert ric.is_valid(resident_id("36042619910101007"))


def test_given_only_a_resident_id_then_the_birth_date_comes_from_it() -> None:
    assert birth_date_for(None, resident_id("11010520120301002")) == date(2012, 3, 1)
    assert birth_date_for("", resident_id("11010520120301002")) == date(2012, 3, 1)


def test_given_a_birth_date_then_it_wins_over_the_resident_id() -> None:
    number = resident_id("11010519900101002")
    assert birth_date_for("2013-07-09", number) == date(2013, 7, 9)


def test_given_a_malformed_birth_date_then_the_resident_id_is_used() -> None:
    assert birth_date_for("09/07/2013", resident_id("11010520130709002")) == date(2013, 7, 9)


def test_a_resident_id_with_a_check_digit_x_and_lower_case() -> None:
    body = next(
        f"110105201203010{n:02d}"
        for n in range(100)
        if ric.calc_check_digit(f"110105201203010{n:02d}0") == "X"
    )
    assert birth_date_for(None, (body + "X").lower()) == date(2012, 3, 1)


def test_a_wrong_check_digit_still_gives_the_birth_date() -> None:
    """A typo in the check digit must not turn a child into an adult."""
    number = resident_id("11010520120301002")
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    assert birth_date_for(None, wrong) == date(2012, 3, 1)


def test_a_first_generation_15_digit_number_gives_a_19xx_birth_date() -> None:
    assert birth_date_for(None, "110105850704123") == date(1985, 7, 4)


@pytest.mark.parametrize(
    "number",
    [
        None,
        "",
        "110105",
        "11010520121301002X",  # month 13
        "1101052012030100AB",
        "110105851304123",  # 15 digits, month 13
        "١١٠١٠٥٢٠١٢٠٣٠١٠٠٢X",  # Arabic-Indic digits are not an ID number
    ],
)
def test_given_no_usable_birth_date_then_none(number: str | None) -> None:
    assert birth_date_for(None, number) is None


def test_a_minor_found_from_the_resident_id() -> None:
    born = birth_date_for(None, resident_id("11010520120301002"))
    assert is_minor(born, date(2026, 2, 28)) is True
    assert is_minor(born, date(2026, 3, 1)) is False
