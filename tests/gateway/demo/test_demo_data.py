"""Behaviour of the synthetic demo data generator (gateway.demo)."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import phonenumbers
import pytest
import yaml
from faker.generator import random as faker_shared_random
from stdnum import luhn
from stdnum.cn import ric
from ulid import ULID

from gateway.demo import DemoDataset, generate, iter_generate
from gateway.demo._people import COMPOUND_SURNAMES
from gateway.demo._regions import AREAS, BIRTHPLACES, PROVINCE_LEVEL_NAMES, Birthplace
from gateway.demo.synthetic import CHANNELS, TIERS

TODAY = dt.date(2026, 11, 22)
CATALOG = Path(__file__).resolve().parents[3] / "policies" / "catalog.yaml"

# Lookarounds, not \b: CJK characters are word characters, so "手机13912345678，"
# has no word boundary before the digits.
MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
EMAIL_IN_TEXT = re.compile(r"[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]+")


@pytest.fixture(scope="module")
def dataset() -> DemoDataset:
    return generate(1000, today=TODAY)


def _age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _parse_utc(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.utcoffset() == dt.timedelta(0)
    return parsed


def test_given_same_seed_and_day_then_dataset_is_identical() -> None:
    assert generate(150, seed=7, today=TODAY) == generate(150, seed=7, today=TODAY)


def test_given_another_seed_then_dataset_differs() -> None:
    first = generate(20, seed=1, today=TODAY)
    second = generate(20, seed=2, today=TODAY)
    assert {c["id_number"] for c in first.customers}.isdisjoint(
        c["id_number"] for c in second.customers
    )


def test_given_smaller_count_then_dataset_is_prefix_of_larger() -> None:
    small, large = generate(30, today=TODAY), generate(120, today=TODAY)
    assert large.customers[:30] == small.customers
    assert large.interactions[: len(small.interactions)] == small.interactions
    assert large.orders[: len(small.orders)] == small.orders


def test_iter_generate_yields_the_same_records_as_generate() -> None:
    bundles = list(iter_generate(50, today=TODAY))
    dataset = generate(50, today=TODAY)
    assert [b.customer for b in bundles] == dataset.customers
    assert [i for b in bundles for i in b.interactions] == dataset.interactions
    assert [o for b in bundles for o in b.orders] == dataset.orders


def test_generation_leaves_global_random_state_untouched() -> None:
    """Seeding is per instance: the process-wide random and Faker streams are not used."""
    before, faker_before = random.getstate(), faker_shared_random.getstate()
    generate(20, today=TODAY)
    assert random.getstate() == before
    assert faker_shared_random.getstate() == faker_before


def test_given_negative_count_then_value_error_is_raised_at_call() -> None:
    with pytest.raises(ValueError, match="n_customers"):
        iter_generate(-1)


def test_given_zero_customers_then_dataset_is_empty() -> None:
    assert generate(0, today=TODAY) == DemoDataset(customers=[], interactions=[], orders=[])


def test_field_names_match_the_catalog(dataset: DemoDataset) -> None:
    entities = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["entities"]
    for entity, records in (
        ("customers", dataset.customers),
        ("interactions", dataset.interactions),
        ("orders", dataset.orders),
    ):
        expected = set(entities[entity]["fields"])
        assert records, entity
        assert all(set(record) == expected for record in records), entity


def test_every_identifier_is_a_unique_prefixed_ulid(dataset: DemoDataset) -> None:
    ids = [
        *(c["id"] for c in dataset.customers),
        *(i["id"] for i in dataset.interactions),
        *(o["id"] for o in dataset.orders),
    ]
    assert len(ids) == len(set(ids))
    for prefix, records in (
        ("cus_", dataset.customers),
        ("int_", dataset.interactions),
        ("ord_", dataset.orders),
    ):
        for record in records:
            value = str(record["id"])
            assert value.startswith(prefix)
            assert str(ULID.from_str(value[len(prefix) :])) == value[len(prefix) :]


def test_record_ids_carry_the_event_time(dataset: DemoDataset) -> None:
    for records, time_field in (
        (dataset.interactions, "occurred_at"),
        (dataset.orders, "ordered_at"),
    ):
        for record in records:
            ulid = ULID.from_str(str(record["id"])[4:])
            assert ulid.datetime == _parse_utc(str(record[time_field]))


def test_personal_identifiers_are_unique_per_customer(dataset: DemoDataset) -> None:
    for field in ("id_number", "phone", "email", "bank_card"):
        values = [c[field] for c in dataset.customers]
        assert len(values) == len(set(values)), field


def test_every_resident_id_is_valid_and_agrees_with_birth_date(dataset: DemoDataset) -> None:
    for customer in dataset.customers:
        id_number = str(customer["id_number"])
        assert len(id_number) == 18
        assert ric.is_valid(id_number), id_number
        assert ric.get_birth_date(id_number).isoformat() == customer["birth_date"]


def test_every_phone_is_a_cn_mobile(dataset: DemoDataset) -> None:
    for customer in dataset.customers:
        phone = str(customer["phone"])
        assert re.fullmatch(r"1\d{10}", phone), phone
        parsed = phonenumbers.parse(phone, "CN")
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.region_code_for_number(parsed) == "CN"
        assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE, phone


def test_every_bank_card_is_a_luhn_valid_unionpay_number(dataset: DemoDataset) -> None:
    for customer in dataset.customers:
        card = str(customer["bank_card"])
        assert card.isdigit()
        assert len(card) in (16, 19)
        assert card.startswith("62")
        assert luhn.is_valid(card), card


def test_emails_use_reserved_domains_only(dataset: DemoDataset) -> None:
    for customer in dataset.customers:
        email = str(customer["email"])
        assert EMAIL_IN_TEXT.fullmatch(email), email
        domain = email.rsplit("@", 1)[1]
        assert domain.split(".")[-2:] in (
            ["example", "com"],
            ["example", "net"],
            ["example", "org"],
        )


def test_minors_under_14_are_between_4_and_14_percent(dataset: DemoDataset) -> None:
    births = [dt.date.fromisoformat(str(c["birth_date"])) for c in dataset.customers]
    assert all(born < TODAY for born in births)
    minors = sum(_age_on(born, TODAY) < 14 for born in births)
    assert 0.04 <= minors / len(births) <= 0.14


def test_some_names_have_compound_surnames(dataset: DemoDataset) -> None:
    names = [str(c["name"]) for c in dataset.customers]
    compound = sum(name.startswith(COMPOUND_SURNAMES) for name in names)
    assert 0.01 <= compound / len(names) <= 0.06
    assert all(2 <= len(name) <= 4 for name in names)


def test_region_is_official_and_starts_the_address(dataset: DemoDataset) -> None:
    assert len(PROVINCE_LEVEL_NAMES) == len(set(PROVINCE_LEVEL_NAMES)) == 34
    prefixes = {area.prefix: area for area in AREAS}
    for customer in dataset.customers:
        region, address = str(customer["region"]), str(customer["address"])
        assert region in PROVINCE_LEVEL_NAMES
        assert address.startswith(region)
        area = next(a for p, a in prefixes.items() if address.startswith(p))
        assert area.province == region
        assert area.district[-1] in "区县旗"
        assert len(address) > len(area.prefix)  # a street follows the district


def test_delivery_addresses_are_full_addresses(dataset: DemoDataset) -> None:
    for order in dataset.orders:
        address = str(order["delivery_address"])
        assert any(address.startswith(area.prefix) for area in AREAS), address


def test_notes_always_hold_pii_and_mostly_a_mobile_or_id(dataset: DemoDataset) -> None:
    notes = [str(c["notes"]) for c in dataset.customers]
    assert all(notes)
    with_number = sum(bool(MOBILE_IN_TEXT.search(n) or ID_IN_TEXT.search(n)) for n in notes)
    assert with_number / len(notes) >= 0.5
    own_values = 0
    for customer, note in zip(dataset.customers, notes, strict=True):
        mentions = (customer[f] for f in ("name", "phone", "email", "id_number", "bank_card"))
        own_values += any(str(value) in note for value in mentions)
    assert own_values / len(notes) >= 0.5


def test_about_half_of_interaction_summaries_hold_pii(dataset: DemoDataset) -> None:
    summaries = [str(i["summary"]) for i in dataset.interactions]
    holding = sum(
        bool(MOBILE_IN_TEXT.search(s) or ID_IN_TEXT.search(s) or EMAIL_IN_TEXT.search(s))
        for s in summaries
    )
    assert 0.3 <= holding / len(summaries) <= 0.6


def test_related_records_point_at_existing_customers(dataset: DemoDataset) -> None:
    customer_ids = {c["id"] for c in dataset.customers}
    assert all(i["customer_id"] in customer_ids for i in dataset.interactions)
    assert all(o["customer_id"] in customer_ids for o in dataset.orders)
    per_customer: dict[object, list[int]] = {cid: [0, 0] for cid in customer_ids}
    for interaction in dataset.interactions:
        per_customer[interaction["customer_id"]][0] += 1
    for order in dataset.orders:
        per_customer[order["customer_id"]][1] += 1
    assert all(n_int <= 5 and n_ord <= 6 for n_int, n_ord in per_customer.values())


def test_related_records_happen_after_joining_and_before_today(dataset: DemoDataset) -> None:
    joined = {c["id"]: ULID.from_str(str(c["id"])[4:]).datetime for c in dataset.customers}
    start_of_today = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC)
    for records, field in ((dataset.interactions, "occurred_at"), (dataset.orders, "ordered_at")):
        for record in records:
            when = _parse_utc(str(record[field]))
            assert joined[record["customer_id"]] <= when < start_of_today


def test_scalar_fields_use_their_vocabularies(dataset: DemoDataset) -> None:
    assert {c["tier"] for c in dataset.customers} == set(TIERS)
    assert {i["channel"] for i in dataset.interactions} == set(CHANNELS)
    assert {o["channel"] for o in dataset.orders} <= set(CHANNELS)
    assert {i["satisfaction"] for i in dataset.interactions} == {1, 2, 3, 4, 5}
    for order in dataset.orders:
        amount = order["amount"]
        assert isinstance(amount, str)
        assert re.fullmatch(r"[1-9]\d*\.\d{2}", amount), amount


@pytest.mark.parametrize("place", BIRTHPLACES, ids=lambda p: f"{p.code}-{p.county}")
def test_birthplace_codes_are_accepted_by_stdnum_for_their_years(place: Birthplace) -> None:
    """The region table is hand-curated: every code must still match stdnum's data."""
    years = {max(place.first, 1930), place.last or TODAY.year}
    for year in years:
        body = f"{place.code}{year}0101123"
        id_number = body + ric.calc_check_digit(body + "0")
        assert ric.is_valid(id_number), (place, year)
        assert ric.get_birth_place(id_number)["county"] == place.county
