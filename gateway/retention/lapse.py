"""When a customer's data has outlived every purpose (PIPL Art. 19, 47): the lapse rule.

For a customer, at an instant `now`, each purpose P of the policy in force (with its
`retention_days` D from `purposes.yaml`) either still gives a legal basis or has
lapsed, with one reason word:

- P's legal basis is **not consent** (contract, legal obligation, ...): it lapses with
  `inactive` when more than D days (D × 24 h) have passed since the customer's last
  activity (`gateway.retention.activity`): the contract is taken to have ended at the
  last activity, and its data is kept D days after that.
- P's legal basis is **consent**:
  - a consent valid at `now` (granted, not withdrawn, not expired) keeps P alive;
  - a consent withdrawn lapses with `consent_withdrawn` more than D days after the
    withdrawal; one that expired lapses with `consent_expired` more than D days after
    `expires_at`;
  - no consent was ever recorded for P: there never was a basis, `no_consent`.

A customer **has lapsed** when every purpose has lapsed: no active legal basis for any
purpose. A lapsed customer is erased by crypto-shredding unless a legal hold is active
(`gateway.retention.holds`). A customer without a last activity (none can be dated) is
never taken as lapsed: erasure cannot be undone, so what cannot be dated is kept.
Already erased customers are not looked at again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from policies.consent import ConsentState, is_valid
from policies.purposes import Purpose


class LapseReason(StrEnum):
    """Why one purpose no longer gives a legal basis (stable words in reports)."""

    INACTIVE = "inactive"
    NO_CONSENT = "no_consent"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_EXPIRED = "consent_expired"


def purpose_lapse(
    purpose: Purpose, state: ConsentState | None, last_activity: dt.datetime, now: dt.datetime
) -> LapseReason | None:
    """Why `purpose` has lapsed for this customer at `now`, or None while it holds."""
    window = dt.timedelta(days=purpose.retention_days)
    if not purpose.requires_consent:
        return LapseReason.INACTIVE if now > last_activity + window else None
    if state is None:
        return LapseReason.NO_CONSENT
    if is_valid(state, now):
        return None
    if state.withdrawn_at is not None:
        ended, reason = state.withdrawn_at, LapseReason.CONSENT_WITHDRAWN
    elif state.expires_at is not None:
        ended, reason = state.expires_at, LapseReason.CONSENT_EXPIRED
    else:  # not granted, never withdrawn: derive_states does not make these
        return LapseReason.NO_CONSENT
    return reason if now > ended + window else None


def customer_lapse(
    purposes: Iterable[Purpose],
    states: Mapping[str, ConsentState],
    last_activity: dt.datetime,
    now: dt.datetime,
) -> dict[str, LapseReason] | None:
    """Every purpose's lapse reason if the customer has lapsed, else None.

    `states` are the customer's consent states by purpose."""
    reasons: dict[str, LapseReason] = {}
    for purpose in purposes:
        reason = purpose_lapse(purpose, states.get(purpose.id), last_activity, now)
        if reason is None:
            return None
        reasons[purpose.id] = reason
    return reasons


def activity_cutoff(purposes: Iterable[Purpose], now: dt.datetime) -> dt.datetime:
    """Customers active at or after this instant keep some non-consent basis, so the
    scan need not look at them (one indexed range, no per-customer query)."""
    windows = [p.retention_days for p in purposes if not p.requires_consent]
    return now - dt.timedelta(days=max(windows)) if windows else now


@dataclass(slots=True)
class LapseCounts:
    """Lapsed customers, and per purpose how many lapsed for each reason."""

    customers: int = 0
    by_purpose: dict[str, dict[str, int]] | None = None

    def add(self, reasons: Mapping[str, LapseReason]) -> None:
        self.customers += 1
        counts = self.by_purpose if self.by_purpose is not None else {}
        for purpose, reason in reasons.items():
            per = counts.setdefault(purpose, {})
            per[reason.value] = per.get(reason.value, 0) + 1
        self.by_purpose = counts

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {p: dict(sorted(r.items())) for p, r in sorted((self.by_purpose or {}).items())}
