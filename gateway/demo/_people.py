"""Names, e-mail addresses and birth dates of synthetic people."""

from __future__ import annotations

import datetime as dt
import random

from faker import Faker

# Faker's zh_CN surname table has only 欧阳; these are the compound surnames a name
# masker must keep whole (欧阳**, not 欧*), so the demo carries enough of them.
COMPOUND_SURNAMES: tuple[str, ...] = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "司徒",
    "夏侯",
    "宇文",
    "端木",
)
COMPOUND_SURNAME_SHARE = 0.03

MINOR_AGE = 14  # PIPL Art. 28/31: guardian consent below this age
MINOR_SHARE = 0.08
_TEEN_SHARE = 0.03  # 14-17: not "minors under 14", but not adults either

# RFC 2606 reserved domains: synthetic addresses must never reach a real mailbox.
_EMAIL_DOMAINS: tuple[str, ...] = (
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "corp.example.net",
)


def surname(rng: random.Random, faker: Faker) -> str:
    """A surname, compound at about COMPOUND_SURNAME_SHARE."""
    if rng.random() < COMPOUND_SURNAME_SHARE:
        return rng.choice(COMPOUND_SURNAMES)
    while True:
        # Faker weights surnames by frequency; its rare 欧阳 is drawn above instead, so
        # the compound share stays what the constant says.
        name = str(faker.last_name())
        if len(name) == 1:
            return name


def given_name(faker: Faker, *, male: bool) -> str:
    return str(faker.first_name_male() if male else faker.first_name_female())


def email_local_part(rng: random.Random, faker: Faker) -> str:
    local = str(faker.user_name()).lower()
    if rng.random() < 0.4:
        local += str(rng.randrange(10, 10000))
    return local


def email_domain(rng: random.Random) -> str:
    return rng.choice(_EMAIL_DOMAINS)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _uniform_date(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def birth_date(rng: random.Random, today: dt.date) -> dt.date:
    """A birth date; about MINOR_SHARE of people are under MINOR_AGE at ``today``."""
    draw = rng.random()
    if draw < MINOR_SHARE:
        # At least a month old: an account is opened for a child, not at birth.
        first = years_before(today, MINOR_AGE) + dt.timedelta(days=1)
        return _uniform_date(rng, first, today - dt.timedelta(days=30))
    if draw < MINOR_SHARE + _TEEN_SHARE:
        first = years_before(today, 18) + dt.timedelta(days=1)
        return _uniform_date(rng, first, years_before(today, MINOR_AGE))
    # Adults 18-80, most of them in their thirties, like a retail customer base.
    age = int(rng.triangular(18, 81, 32))
    first = years_before(today, age + 1) + dt.timedelta(days=1)
    return _uniform_date(rng, first, years_before(today, age))


def age_on(born: dt.date, day: dt.date) -> int:
    """Completed years of age on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
