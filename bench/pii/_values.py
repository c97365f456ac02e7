"""Synthetic values with correct check digits, and lookalikes that must not be found.

Valid numbers come from the same rules a real issuer follows (GB 11643 check digit,
Luhn, GB 32100/GB 11714 check characters, phonenumbers' CN ranges); the lookalikes
break exactly one rule (a wrong check digit, an impossible date, a non-mobile prefix).
"""

from __future__ import annotations

import datetime as dt
import random

import phonenumbers
from faker import Faker
from stdnum import luhn
from stdnum.cn import ric, uscc

from gateway.demo._addresses import full_address, pick_area
from gateway.demo._identifiers import bank_card, mobile_number, resident_id
from gateway.demo._regions import AREAS
from masking.detection._text import words

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_DOC_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_AREA_CODES = words(
    "010 020 021 022 023 024 025 027 028 029 0311 0351 0371 0431 0451 0471 0511 0512 0571 0574 "
    "0591 0592 0731 0755 0756 0757 0760 0769 0871 0898 0931 0951 0991"
)


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


# --- resident IDs ---------------------------------------------------------------------


def valid_resident_id(rng: random.Random) -> str:
    while True:
        area = rng.choice(AREAS)
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 80))
        if area.since <= born.year:
            value = resident_id(rng, area.code, born, male=rng.random() < 0.5)
            if ric.is_valid(value):
                return value


def id_wrong_check(rng: random.Random) -> str:
    value = valid_resident_id(rng)
    wrong = rng.choice([c for c in "0123456789X" if c != value[-1]])
    return value[:-1] + wrong


def id_bad_date(rng: random.Random) -> str:
    """Right length and a correct check digit, but born on 30 February."""
    area = rng.choice(AREAS)
    body = f"{area.code}{rng.randint(1950, 2005)}0230{digits(rng, 3)}"
    return body + ric.calc_check_digit(body + "0")


# --- phones ---------------------------------------------------------------------------


def mobile(rng: random.Random) -> str:
    number = mobile_number(rng)
    shape = rng.random()
    if shape < 0.7:
        return number
    if shape < 0.8:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if shape < 0.9:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    return f"+86 {number}"


def not_a_mobile(rng: random.Random) -> str:
    """11 digits that are no mobile number: 10x/12x prefixes are not allocated."""
    return rng.choice(("10", "12")) + digits(rng, 9)


def landline(rng: random.Random) -> str:
    while True:
        code = rng.choice(_AREA_CODES)
        local = str(rng.randint(2, 8)) + digits(rng, 7 if len(code) == 3 else rng.choice((6, 7)))
        parsed = phonenumbers.parse(code + local, "CN")
        if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            shape = rng.random()
            if shape < 0.75:
                return f"{code}-{local}"
            if shape < 0.9:
                return f"({code}){local}"
            return f"{code} {local}"


# --- cards ----------------------------------------------------------------------------


def card(rng: random.Random) -> str:
    if rng.random() < 0.8:
        number = bank_card(rng)
    else:  # Visa / Mastercard credit cards
        body = rng.choice(("4", "51", "53", "55")) + digits(rng, 14)
        body = body[:15]
        number = body + luhn.calc_check_digit(body)
    if rng.random() < 0.2:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def card_wrong_check(rng: random.Random) -> str:
    number = bank_card(rng)
    wrong = rng.choice([c for c in "0123456789" if c != number[-1]])
    return number[:-1] + wrong


def order_number(rng: random.Random) -> str:
    """Order numbers as shops print them: date, time and a serial, 16-20 digits."""
    day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(700))
    return f"{day:%Y%m%d}{digits(rng, rng.randint(8, 12))}"


# --- organisations --------------------------------------------------------------------


def _org_code(rng: random.Random) -> str:
    body = "".join(rng.choice(_USCC_ALPHABET[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = (11 - sum(int(c, 36) * w for c, w in zip(body, weights, strict=True)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


def valid_uscc(rng: random.Random) -> str:
    authority = rng.choices("159YAN", weights=(8, 6, 80, 3, 1, 2))[0]
    body = authority + rng.choice("123") + rng.choice(AREAS).code + _org_code(rng)
    return body + uscc.calc_check_digit(body)


def uscc_wrong_check(rng: random.Random) -> str:
    value = valid_uscc(rng)
    return value[:-1] + rng.choice([c for c in _USCC_ALPHABET if c != value[-1]])


# --- travel documents and plates ------------------------------------------------------


def passport(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.55:
        return "E" + digits(rng, 8)
    if shape < 0.8:
        return "E" + rng.choice(_DOC_LETTERS.replace("I", "").replace("O", "")) + digits(rng, 7)
    if shape < 0.9:
        return "G" + digits(rng, 8)
    return rng.choice(("DE", "SE", "PE")) + digits(rng, 7)


def hk_macau_permit(rng: random.Random) -> str:
    return rng.choice("HM") + digits(rng, rng.choice((8, 8, 8, 10)))


def exit_entry_permit(rng: random.Random) -> str:
    return rng.choice(("C", "C", "L")) + digits(rng, 8)


def plate(rng: random.Random, faker: Faker) -> str:
    if rng.random() < 0.25:  # new-energy plates: 8 characters
        province, office = rng.choice(_PLATE_PROVINCES), rng.choice(_PLATE_LETTERS)
        if rng.random() < 0.7:
            second = rng.choice(_PLATE_LETTERS + "0123456789")
            return f"{province}{office}{rng.choice('DF')}{second}{digits(rng, 4)}"
        return f"{province}{office}{digits(rng, 5)}{rng.choice('DF')}"
    value = str(faker.license_plate()).replace("-", "")
    while "I" in value:  # Faker draws office letter I, which is never issued
        value = str(faker.license_plate()).replace("-", "")
    return value if rng.random() < 0.85 else f"{value[:2]}·{value[2:]}"


# --- names, places, addresses ---------------------------------------------------------


def zh_name(faker: Faker) -> str:
    return str(faker.name())


def zh_surname(faker: Faker) -> str:
    return str(faker.last_name())


def en_name(faker: Faker) -> str:
    return f"{faker.first_name()} {faker.last_name()}"


def address(rng: random.Random, faker: Faker) -> str:
    if rng.random() < 0.7:
        return full_address(rng, pick_area(rng))
    # Faker's zh_CN addresses end with a postcode after a space; the address is before it.
    return str(faker.address()).rsplit(" ", 1)[0]


def email(faker: Faker) -> str:
    return str(faker.email())


def ip(rng: random.Random, faker: Faker) -> str:
    shape = rng.random()
    if shape < 0.5:
        return str(faker.ipv4_public())
    if shape < 0.75:
        return str(faker.ipv4_private())
    return str(faker.ipv6())


def timestamp(rng: random.Random) -> str:
    moment = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(10**8))
    shape = rng.random()
    if shape < 0.4:
        return f"{moment:%Y-%m-%d %H:%M:%S}"
    if shape < 0.7:
        return str(int(moment.timestamp() * 1000))
    return f"{moment:%Y%m%d%H%M%S}"


def tracking_number(rng: random.Random) -> str:
    return rng.choice(("SF", "YT", "ZTO", "JD")) + digits(rng, rng.choice((12, 13, 15)))


def amount(rng: random.Random) -> str:
    return f"{rng.randint(1, 99999)}.{digits(rng, 2)}"
