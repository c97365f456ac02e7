"""Deadlines in Chinese working days (PIPL Art. 50; 15 working days by common practice).

Working days come from the `chinese-calendar` package: weekends off, public holidays off,
and the make-up working days (调休) that the State Council's yearly notice moves onto a
weekend counted as working days. For a year the package does not cover yet, an operator
may load the official dates from a file (`WARDGATE_DSR_CALENDAR_FILE`); without one the
year is counted Monday to Friday and every date computed through it is `provisional`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar
import yaml

CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""Deadlines are counted on the calendar of mainland China (UTC+8, no daylight saving)."""

_KNOWN_HOLIDAYS: Mapping[dt.date, object] = chinese_calendar.holidays
_KNOWN_WORKDAYS: Mapping[dt.date, object] = chinese_calendar.workdays
PACKAGE_YEARS = range(min(_KNOWN_HOLIDAYS).year, max(_KNOWN_HOLIDAYS).year + 1)
"""The years the installed `chinese-calendar` covers."""


class CalendarFileError(ValueError):
    """The official-dates file cannot be used (the message names the problem, not data)."""


@dataclass(frozen=True, slots=True)
class Deadline:
    due: dt.date
    provisional: bool
    """Counted through a year nobody has published official dates for (Mon–Fri)."""


@dataclass(frozen=True, slots=True)
class OfficialDates:
    """Holidays and make-up working days an operator loaded for years the package lacks."""

    years: frozenset[int] = frozenset()
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()


def _dates(raw: object, key: str) -> set[dt.date]:
    if raw is None:
        return set()
    if not isinstance(raw, list):
        msg = f"`{key}` must be a list of dates (YYYY-MM-DD)"
        raise CalendarFileError(msg)
    found: set[dt.date] = set()
    for item in raw:
        if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
            found.add(item)
            continue
        try:
            found.add(dt.date.fromisoformat(str(item)))
        except ValueError:
            msg = f"`{key}` holds an entry that is not a date (YYYY-MM-DD)"
            raise CalendarFileError(msg) from None
    return found


def parse_official_dates(text: str) -> OfficialDates:
    """`{years: {2031: {holidays: [...], workdays: [...]}}}`: each year listed is
    official from then on (its weekdays not listed as holidays are working days)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        msg = "the calendar file is not valid YAML"
        raise CalendarFileError(msg) from None
    years = document.get("years") if isinstance(document, dict) else None
    if not isinstance(years, dict) or not years:
        msg = "the calendar file needs a `years` mapping of year to holidays and workdays"
        raise CalendarFileError(msg)
    covered: set[int] = set()
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    for year, spec in years.items():
        if not isinstance(year, int) or not isinstance(spec, dict):
            msg = "each entry under `years` is a year (e.g. 2031) with holidays and workdays"
            raise CalendarFileError(msg)
        off, on = _dates(spec.get("holidays"), "holidays"), _dates(spec.get("workdays"), "workdays")
        if any(day.year != year for day in off | on):
            msg = f"a date listed under {year} is not in {year}"
            raise CalendarFileError(msg)
        covered.add(year)
        holidays |= off
        workdays |= on
    return OfficialDates(frozenset(covered), frozenset(holidays), frozenset(workdays))


def load_official_dates(path: Path | None) -> OfficialDates:
    if path is None:
        return OfficialDates()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        msg = f"the calendar file {path} cannot be read"
        raise CalendarFileError(msg) from None
    return parse_official_dates(text)


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    official: OfficialDates = field(default_factory=OfficialDates)

    def covers(self, year: int) -> bool:
        """Whether working days of `year` are official (package or operator's file)."""
        return year in PACKAGE_YEARS or year in self.official.years

    def is_workday(self, day: dt.date) -> bool:
        if day.year in self.official.years:
            if day in self.official.workdays:
                return True
            return day.weekday() < 5 and day not in self.official.holidays
        if day.year in PACKAGE_YEARS:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> Deadline:
        """The `days`-th working day after `start` (the day of receipt does not count)."""
        day, counted, provisional = start, 0, not self.covers(start.year)
        while counted < days:
            day += dt.timedelta(days=1)
            provisional = provisional or not self.covers(day.year)
            if self.is_workday(day):
                counted += 1
        return Deadline(day, provisional)

    def working_days_between(self, after: dt.date, until: dt.date) -> int:
        """Working days in (after, until]; negative when `until` is before `after`."""
        if until < after:
            return -self.working_days_between(until, after)
        return sum(1 for day in _days(after, until) if self.is_workday(day))


def _days(after: dt.date, until: dt.date) -> Iterable[dt.date]:
    day = after
    while day < until:
        day += dt.timedelta(days=1)
        yield day


def china_date(moment: dt.datetime) -> dt.date:
    """The calendar day in mainland China at `moment` (deadlines count Chinese days)."""
    return moment.astimezone(CHINA).date()
