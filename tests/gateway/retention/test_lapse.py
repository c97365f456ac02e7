"""The lapse rule at exact instants: each legal basis, each reason, and the boundary."""

from __future__ import annotations

import datetime as dt

from gateway.retention.lapse import LapseReason, activity_cutoff, customer_lapse, purpose_lapse
from policies.consent import ConsentEvent, ConsentState, derive_states
from policies.purposes import LegalBasis, Purpose

UTC = dt.UTC
SERVICE = Purpose("customer_service", "", "", LegalBasis.CONTRACT, retention_days=1095)
AUDIT = Purpose("compliance_audit", "", "", LegalBasis.LEGAL_OBLIGATION, retention_days=400)
MARKETING = Purpose("marketing", "", "", LegalBasis.CONSENT, retention_days=730)
LAST = dt.datetime(2025, 1, 1, tzinfo=UTC)


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def state(*events: tuple[str, dt.datetime, dt.datetime | None]) -> ConsentState:
    history = [
        ConsentEvent(
            customer_id="cus_1",
            purpose="marketing",
            kind=kind,  # type: ignore[arg-type]
            at=when,
            channel="web",
            notice_version="v1",
            expires_at=expires,
        )
        for kind, when, expires in events
    ]
    return derive_states(history)[("cus_1", "marketing")]


def test_given_a_contract_purpose_then_it_lapses_only_after_its_days_since_last_activity() -> None:
    end = LAST + dt.timedelta(days=1095)

    assert purpose_lapse(SERVICE, None, LAST, end) is None
    assert purpose_lapse(SERVICE, None, LAST, end + dt.timedelta(microseconds=1)) == (
        LapseReason.INACTIVE
    )


def test_given_a_valid_consent_then_the_purpose_holds_however_old_the_activity() -> None:
    granted = state(("grant", at(2020, 1, 1), None))

    assert purpose_lapse(MARKETING, granted, LAST, at(2040, 1, 1)) is None


def test_given_no_consent_ever_then_a_consent_purpose_has_no_basis() -> None:
    assert purpose_lapse(MARKETING, None, LAST, at(2025, 1, 2)) == LapseReason.NO_CONSENT


def test_given_a_withdrawal_then_the_purpose_lapses_its_days_after_it() -> None:
    withdrawn = state(("grant", at(2020, 1, 1), None), ("withdraw", at(2024, 3, 1), None))
    end = at(2024, 3, 1) + dt.timedelta(days=730)

    assert purpose_lapse(MARKETING, withdrawn, LAST, end) is None
    assert purpose_lapse(MARKETING, withdrawn, LAST, end + dt.timedelta(seconds=1)) == (
        LapseReason.CONSENT_WITHDRAWN
    )


def test_given_an_expired_consent_then_the_purpose_lapses_its_days_after_expiry() -> None:
    expired = state(("grant", at(2020, 1, 1), at(2023, 1, 1)))

    assert purpose_lapse(MARKETING, expired, LAST, at(2024, 12, 31)) is None
    assert purpose_lapse(MARKETING, expired, LAST, at(2025, 1, 2)) == LapseReason.CONSENT_EXPIRED


def test_given_one_purpose_still_holding_then_the_customer_has_not_lapsed() -> None:
    purposes = [SERVICE, AUDIT, MARKETING]
    granted = {"marketing": state(("grant", at(2020, 1, 1), None))}

    assert customer_lapse(purposes, granted, LAST, at(2040, 1, 1)) is None
    assert customer_lapse(purposes, {}, LAST, at(2027, 1, 1)) is None  # contract holds


def test_given_every_purpose_lapsed_then_each_names_its_reason() -> None:
    reasons = customer_lapse([SERVICE, AUDIT, MARKETING], {}, LAST, at(2040, 1, 1))

    assert reasons == {
        "customer_service": LapseReason.INACTIVE,
        "compliance_audit": LapseReason.INACTIVE,
        "marketing": LapseReason.NO_CONSENT,
    }


def test_given_several_non_consent_purposes_then_the_scan_starts_at_the_longest() -> None:
    now = at(2030, 1, 1)

    assert activity_cutoff([SERVICE, AUDIT, MARKETING], now) == now - dt.timedelta(days=1095)
    assert activity_cutoff([MARKETING], now) == now
