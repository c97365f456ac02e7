"""Step 4 of a data call: consent and purpose scope, for the records in hand.

One query loads the page's consent states; each record is then decided in memory
(PIPL Art. 13–15, 28–31): a record without the consent its purpose needs is withheld,
sensitive fields without separate consent are withheld, a minor needs a guardian's
consent, and categories outside the purpose's scope are withheld.

Decisions made from the history a row carries are remembered by that history's text
(with the purpose's rules, the fields and the minor flag): any grant, withdrawal or
expiry recorded since changes the text, so a cached decision never outlives a change
of the history. Time is the one other input: a decision on a consent that expires is
kept only until that expiry.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.consents.store import consent_events, events_from_history
from gateway.governance.call import GovernedCall
from gateway.governance.text_plan import TEXT_FIELD_PREFIX
from policies.catalog import Entity
from policies.consent import (
    ConsentEvent,
    ConsentState,
    PurposeRules,
    RecordDecision,
    derive_states,
    is_valid,
    record_fields,
)
from policies.purposes import Purpose


@dataclass(slots=True)
class Gate:
    decisions: dict[str, RecordDecision] = field(default_factory=dict)  # by owner id

    def record(self, owner: str) -> RecordDecision:
        return self.decisions.get(owner, RecordDecision())


@cache
def rules_for(purpose: Purpose) -> PurposeRules:
    return PurposeRules(purpose)


@cache
def consent_fields(entity: Entity, shown: tuple[str, ...]) -> tuple[tuple[str, str, bool], ...]:
    return record_fields(entity, shown)


def gated_fields(call: GovernedCall, entity: str) -> tuple[tuple[str, str, bool], ...]:
    """The consent-relevant data a read of `entity` shows: its shown fields, and, when
    free text is shown, the sensitive categories it may hold (`text:<category>`)."""
    view = call.view(entity)
    fields = consent_fields(call.state.catalog.entity(entity), view.shown_columns)
    if view.scanned:
        fields += call.plan.text.consent_fields
    return fields


def split_reasons(entity: Entity, reasons: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
    """A record's withheld fields, and the categories its free text must not show: the
    sensitive categories consent withholds, and the category of every withheld field
    (an ID number withheld from `id_number` is withheld inside the notes too)."""
    fields: dict[str, str] = {}
    categories: set[str] = set()
    for name, reason in reasons.items():
        if name.startswith(TEXT_FIELD_PREFIX):
            categories.add(name.removeprefix(TEXT_FIELD_PREFIX))
        else:
            fields[name] = reason
            categories.add(entity.field(name).category)
    return fields, categories


@cache
def needs_gate(purpose: Purpose, fields: tuple[tuple[str, str, bool], ...]) -> bool:
    rules = rules_for(purpose)
    return (
        rules.requires_consent
        or any(sensitive for _, _, sensitive in fields)
        or not all(rules.allows_category(category) for _, category, _ in fields)
    )


def _decide(
    call: GovernedCall,
    owners: Mapping[str, tuple[bool, list[ConsentEvent]]],
    fields: Sequence[tuple[str, str, bool]],
) -> Gate:
    gate = Gate()
    now = dt.datetime.now(dt.UTC)
    rules = rules_for(call.purpose)
    purpose = call.purpose.id
    for owner, (minor, events) in owners.items():
        gate.decisions[owner] = _decide_one(rules, fields, owner, purpose, minor, events, now)[0]
    return gate


def _valid_until(state: ConsentState | None, now: dt.datetime) -> dt.datetime | None:
    """Until when a decision made at `now` on `state` holds: `PurposeRules.decide` reads
    the time only to tell whether the consent is valid (`is_valid`), and an expired or
    withdrawn consent stays so, so only a valid consent with an expiry bounds it."""
    if state is not None and is_valid(state, now):
        return state.expires_at
    return None


_History = str | bytes | None
_Decisions = dict[tuple[bool, _History], tuple[RecordDecision, dt.datetime | None]]


class DecisionCache:
    """Record decisions by (purpose rules, fields) and then (minor, consent history text).

    Bounded (emptied when full). Holds the history text (consent metadata: kinds, times,
    scopes, channel, notice version, guardian reference), no field of the customer
    record. A reload that changes a purpose builds new rules, hence new keys."""

    def __init__(self, entries: int = 16_384) -> None:
        self._entries = entries
        self._size = 0
        self._lock = threading.Lock()
        self._by_rules: dict[tuple[PurposeRules, Hashable], _Decisions] = {}

    def decide_all(
        self,
        rules: PurposeRules,
        fields: tuple[tuple[str, str, bool], ...],
        owners: Mapping[str, tuple[bool, object]],
        now: dt.datetime,
    ) -> dict[str, RecordDecision]:
        """Every owner (customer id → (is a minor, consent history)) decided at `now`."""
        decide = self.decider(rules, fields, now)
        return {owner: decide(owner, minor, history) for owner, (minor, history) in owners.items()}

    def decider(
        self, rules: PurposeRules, fields: tuple[tuple[str, str, bool], ...], now: dt.datetime
    ) -> Callable[[str, bool, object], RecordDecision]:
        """A function deciding one owner (id, is a minor, consent history) at `now`: a
        page decides record by record, before it decrypts what the decision withholds."""
        purpose = rules.purpose_id
        known = self._by_rules.get((rules, fields))
        if known is None:
            with self._lock:
                known = self._by_rules.setdefault((rules, fields), {})

        def decide(owner: str, minor: bool, history: object) -> RecordDecision:
            if history is not None and not isinstance(history, str | bytes):
                # Already parsed by the driver: not a key, decided afresh.
                events = events_from_history(owner, purpose, history)
                return _decide_one(rules, fields, owner, purpose, minor, events, now)[0]
            hit = known.get((minor, history))
            if hit is not None and (hit[1] is None or now < hit[1]):
                return hit[0]
            events = events_from_history(_ANY_OWNER, purpose, history)
            decision, state = _decide_one(rules, fields, _ANY_OWNER, purpose, minor, events, now)
            self._remember(known, (minor, history), (decision, _valid_until(state, now)))
            return decision

        return decide

    def _remember(
        self,
        known: _Decisions,
        key: tuple[bool, _History],
        entry: tuple[RecordDecision, dt.datetime | None],
    ) -> None:
        with self._lock:
            if key not in known:
                self._size += 1
            known[key] = entry
            if self._size > self._entries:
                # Crude but bounded: start again (the rules and fields are few).
                self._by_rules.clear()
                self._size = 0

    def __len__(self) -> int:
        return self._size


def _decide_one(
    rules: PurposeRules,
    fields: Sequence[tuple[str, str, bool]],
    owner: str,
    purpose: str,
    minor: bool,
    events: list[ConsentEvent],
    now: dt.datetime,
) -> tuple[RecordDecision, ConsentState | None]:
    """One owner's decision from its events for the purpose, and the state it rests on."""
    state = derive_states(events).get((owner, purpose)) if events else None
    return rules.decide(state, minor=minor, fields=fields, now=now), state


# A history holds one customer's events for one purpose, and neither the state derived
# from it nor the decision names the customer: they are derived under a placeholder id.
_ANY_OWNER = ""
DECISIONS = DecisionCache()


def decide_histories(
    call: GovernedCall,
    owners: Mapping[str, tuple[bool, object]],
    fields: Sequence[tuple[str, str, bool]],
    *,
    now: dt.datetime | None = None,
) -> Gate:
    """Decide every owner (customer id → (is a minor, consent history JSON)) in memory."""
    at = now or dt.datetime.now(dt.UTC)
    return Gate(DECISIONS.decide_all(rules_for(call.purpose), tuple(fields), owners, at))


def record_decider(
    call: GovernedCall, fields: Sequence[tuple[str, str, bool]], *, now: dt.datetime | None = None
) -> Callable[[str, bool, object], RecordDecision]:
    """Decide owners one at a time (customer id, is a minor, consent history JSON), as
    `decide_histories` does for a batch."""
    at = now or dt.datetime.now(dt.UTC)
    return DECISIONS.decider(rules_for(call.purpose), tuple(fields), at)


async def decide(
    call: GovernedCall,
    conn: AsyncConnection,
    owners: Mapping[str, bool],
    fields: Sequence[tuple[str, str, bool]],
) -> Gate:
    """Decide every owner (customer id → is a minor), loading their history in one query."""
    events: dict[str, list[ConsentEvent]] = {owner: [] for owner in owners}
    for event in await consent_events(conn, owners, call.purpose.id):
        events[event.customer_id].append(event)
    return _decide(call, {owner: (minor, events[owner]) for owner, minor in owners.items()}, fields)
