"""Deterministic synthetic customers, interactions and orders for demos and tests.

Field names follow ``policies/catalog.yaml``; values are the normalized forms the store
holds (11-digit mobile, 18-character resident ID, ISO dates, ``"128.50"`` amounts). All
values are made up, yet pass the checks the gateway applies on write: GB 11643 check
character and birthplace, phonenumbers' CN mobile ranges, Luhn on UnionPay cards.

The same ``seed`` and ``today`` always give the same dataset, and a smaller dataset is
a prefix of a larger one, so ``generate(10)`` shows exactly what ``generate(10_000)``
starts with. Only the pinned Faker version's name tables are an outside input.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from faker import Faker

from gateway.demo._addresses import full_address, pick_area
from gateway.demo._identifiers import (
    GenerationError,
    bank_card,
    mobile_number,
    record_id,
    resident_id,
)
from gateway.demo._people import (
    MINOR_AGE,
    age_on,
    birth_date,
    email_domain,
    email_local_part,
    given_name,
    surname,
    years_before,
)
from gateway.demo._regions import Area, birthplaces
from gateway.demo._texts import TextFacts, customer_note, interaction_summary

DEFAULT_SEED = 20261122

TIERS: tuple[str, ...] = ("standard", "silver", "gold", "platinum")
CHANNELS: tuple[str, ...] = ("phone", "web", "app", "store", "wechat", "email")

_TIER_WEIGHTS = (60, 25, 11, 4)
_MINOR_TIER_WEIGHTS = (90, 10, 0, 0)
_TIER_SPEND = {"standard": 1.0, "silver": 1.3, "gold": 1.8, "platinum": 2.6}
_INTERACTION_CHANNEL_WEIGHTS = (25, 15, 25, 10, 20, 5)
# Nobody places an order by e-mail; phone orders are rare.
_ORDER_CHANNEL_WEIGHTS = (3, 20, 40, 15, 25, 0)
_INTERACTIONS_PER_CUSTOMER_WEIGHTS = (15, 25, 25, 17, 10, 8)  # 0..5
_ORDERS_PER_CUSTOMER_WEIGHTS = (12, 20, 22, 17, 12, 10, 7)  # 0..6
_SATISFACTION_WEIGHTS = (5, 8, 17, 35, 35)  # 1..5
_SATISFACTION = (1, 2, 3, 4, 5)

_HISTORY_YEARS = 5  # customers joined at most this long before `today`
_BIRTHPLACE_IS_HOME = 0.7  # share whose ID was issued where they now live
_BIRTHPLACE_IN_PROVINCE = 0.8  # of the others, share born in the same province
_MAX_DRAWS = 1000

Record = dict[str, object]


@dataclass(frozen=True)
class CustomerBundle:
    """One customer with the records that point at it, as :func:`iter_generate` yields."""

    customer: Record
    interactions: list[Record]
    orders: list[Record]
    joined: str = ""
    """When the person became a customer in the seeded history (ISO 8601, UTC)."""


@dataclass(frozen=True)
class DemoDataset:
    """Customers and their related records, as stored (normalized) field values."""

    customers: list[Record]
    interactions: list[Record]
    orders: list[Record]


def generate(
    n_customers: int, *, seed: int = DEFAULT_SEED, today: dt.date | None = None
) -> DemoDataset:
    """Generate ``n_customers`` customers with their interactions and orders.

    ``today`` anchors ages and event times (default: the current UTC date); pass it
    explicitly when the dataset must be reproducible on another day.
    """
    dataset = DemoDataset(customers=[], interactions=[], orders=[])
    for bundle in iter_generate(n_customers, seed=seed, today=today):
        dataset.customers.append(bundle.customer)
        dataset.interactions.extend(bundle.interactions)
        dataset.orders.extend(bundle.orders)
    return dataset


def iter_generate(
    n_customers: int, *, seed: int = DEFAULT_SEED, today: dt.date | None = None
) -> Iterator[CustomerBundle]:
    """Yield the same customers as :func:`generate`, one bundle at a time.

    Meant for large ``n`` (stream into the store, drive a progress bar) without holding
    the whole dataset in memory.
    """
    if n_customers < 0:
        msg = f"n_customers must be zero or more, got {n_customers}"
        raise ValueError(msg)
    if isinstance(today, dt.datetime):
        today = today.date()
    # Validate eagerly (above), generate lazily (below).
    generator = _Generator(seed, today or dt.datetime.now(dt.UTC).date())
    return (generator.bundle() for _ in range(n_customers))


def _iso(instant: dt.datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Generator:
    """Holds the seeded randomness and the values already issued."""

    def __init__(self, seed: int, today: dt.date) -> None:
        # Private Random and Faker instances: the process-wide ones are shared with
        # whatever else runs (tests, Faker users elsewhere) and would break determinism.
        self._rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets; must be seedable
        self._faker = Faker("zh_CN")
        self._faker.seed_instance(seed)
        self._today = today
        # Every event happens strictly before `today` begins (UTC).
        self._end = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
        self._issued: dict[str, set[str]] = {}

    def _unique(self, kind: str, draw: Callable[[], str]) -> str:
        issued = self._issued.setdefault(kind, set())
        for _ in range(_MAX_DRAWS):
            value = draw()
            if value not in issued:
                issued.add(value)
                return value
        msg = f"could not draw a unique {kind}"
        raise GenerationError(msg)

    def _record_id(self, prefix: str, at: dt.datetime) -> str:
        return self._unique("id", functools.partial(record_id, prefix, at, self._rng))

    def _instant(self, first: dt.datetime, last: dt.datetime) -> dt.datetime:
        """A whole second in ``[first, last)``."""
        second = self._rng.randrange(int(first.timestamp()), int(last.timestamp()))
        return dt.datetime.fromtimestamp(second, tz=dt.UTC)

    def _birthplace_code(self, home: Area, year: int) -> str:
        rng = self._rng
        if home.since <= year and rng.random() < _BIRTHPLACE_IS_HOME:
            return home.code
        in_province = birthplaces(home.province, year)
        if in_province and rng.random() < _BIRTHPLACE_IN_PROVINCE:
            return rng.choice(in_province).code
        # Beijing's and Shanghai's codes are valid for every year: never empty.
        return rng.choice(birthplaces(None, year)).code

    def bundle(self) -> CustomerBundle:
        rng, faker = self._rng, self._faker
        male = rng.random() < 0.5
        family = surname(rng, faker)
        name = family + given_name(faker, male=male)
        born = birth_date(rng, self._today)
        minor = age_on(born, self._today) < MINOR_AGE
        home = pick_area(rng)
        address = full_address(rng, home)
        birthplace = self._birthplace_code(home, born.year)
        id_number = self._unique("id_number", lambda: resident_id(rng, birthplace, born, male=male))
        phone = self._unique("phone", lambda: mobile_number(rng))
        email = self._unique("email", lambda: f"{email_local_part(rng, faker)}@{email_domain(rng)}")
        card = self._unique("bank_card", lambda: bank_card(rng))
        joined_earliest = max(
            dt.datetime.combine(years_before(self._today, _HISTORY_YEARS), dt.time(), dt.UTC),
            dt.datetime.combine(born + dt.timedelta(days=1), dt.time(), dt.UTC),
        )
        joined = self._instant(joined_earliest, self._end - dt.timedelta(days=2))
        customer_id = self._record_id("cus", joined)

        guardian_name = guardian_phone = None
        if minor:
            guardian_name = family + given_name(faker, male=rng.random() < 0.5)
            guardian_phone = mobile_number(rng)
        facts = TextFacts(
            name=name,
            polite_name=name if minor else family + ("先生" if male else "女士"),
            phone=phone,
            alt_phone=mobile_number(rng),
            email=email,
            id_number=id_number,
            address=address,
            bank_card=card,
            guardian_name=guardian_name,
            guardian_phone=guardian_phone,
        )
        tier = rng.choices(TIERS, weights=_MINOR_TIER_WEIGHTS if minor else _TIER_WEIGHTS)[0]
        customer: Record = {
            "id": customer_id,
            "name": name,
            "id_number": id_number,
            "phone": phone,
            "email": email,
            "address": address,
            "bank_card": card,
            "birth_date": born.isoformat(),
            "region": home.province,
            "tier": tier,
            "notes": customer_note(rng, facts),
        }
        return CustomerBundle(
            customer=customer,
            interactions=self._interactions(customer_id, joined, facts),
            orders=self._orders(customer_id, joined, tier, home, address),
            joined=_iso(joined),
        )

    def _event_times(self, joined: dt.datetime, weights: tuple[int, ...]) -> list[dt.datetime]:
        count = self._rng.choices(range(len(weights)), weights=weights)[0]
        return sorted(self._instant(joined, self._end) for _ in range(count))

    def _interactions(
        self, customer_id: str, joined: dt.datetime, facts: TextFacts
    ) -> list[Record]:
        rng = self._rng
        records: list[Record] = []
        for occurred in self._event_times(joined, _INTERACTIONS_PER_CUSTOMER_WEIGHTS):
            records.append(
                {
                    "id": self._record_id("int", occurred),
                    "customer_id": customer_id,
                    "channel": rng.choices(CHANNELS, weights=_INTERACTION_CHANNEL_WEIGHTS)[0],
                    "occurred_at": _iso(occurred),
                    "summary": interaction_summary(rng, facts),
                    "satisfaction": rng.choices(_SATISFACTION, weights=_SATISFACTION_WEIGHTS)[0],
                }
            )
        return records

    def _orders(
        self, customer_id: str, joined: dt.datetime, tier: str, home: Area, address: str
    ) -> list[Record]:
        rng = self._rng
        records: list[Record] = []
        for ordered in self._event_times(joined, _ORDERS_PER_CUSTOMER_WEIGHTS):
            records.append(
                {
                    "id": self._record_id("ord", ordered),
                    "customer_id": customer_id,
                    "ordered_at": _iso(ordered),
                    "amount": self._amount(tier),
                    "channel": rng.choices(CHANNELS, weights=_ORDER_CHANNEL_WEIGHTS)[0],
                    "delivery_address": self._delivery_address(home, address),
                }
            )
        return records

    def _amount(self, tier: str) -> str:
        rng = self._rng
        # Log-normal around ¥150: many small baskets, a long tail of big ones.
        cents = round(rng.lognormvariate(5.0, 1.0) * _TIER_SPEND[tier] * 100)
        cents = min(max(cents, 100), 5_000_000)
        ending = rng.random()
        if ending < 0.35:
            cents -= cents % 100  # ¥128.00
        elif ending < 0.6:
            cents += 90 - cents % 100  # ¥99.90-style retail price
        return f"{cents // 100}.{cents % 100:02d}"

    def _delivery_address(self, home: Area, address: str) -> str:
        rng = self._rng
        draw = rng.random()
        if draw < 0.7:
            return address
        if draw < 0.9:
            return full_address(rng, home)  # e.g. the office, in the same district
        return full_address(rng, pick_area(rng))  # e.g. a gift to family elsewhere
