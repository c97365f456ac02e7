"""Deadlines in Chinese working days: holidays off, make-up working days (调休) counted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gateway.dsr.working_days import (
    PACKAGE_YEARS,
    CalendarFileError,
    WorkingCalendar,
    china_date,
    load_official_dates,
    parse_official_dates,
)

D = dt.date
CALENDAR = WorkingCalendar()


def test_given_the_2026_national_day_then_the_week_off_is_skipped_and_oct_10_counts() -> None:
    # Sep 29, 30 (2); Oct 1-7 off; Oct 8, 9 (4); Sat Oct 10 is a make-up day (5);
    # Oct 12-16 (10); Oct 19-23 (15).
    deadline = CALENDAR.add_working_days(D(2026, 9, 28), 15)
    assert deadline.due == D(2026, 10, 23)
    assert deadline.provisional is False


def test_given_the_make_up_sunday_before_national_day_then_it_counts() -> None:
    # Sun Sep 20, 2026 is a working day: the first one after Fri Sep 18.
    assert CALENDAR.add_working_days(D(2026, 9, 18), 1).due == D(2026, 9, 20)
    assert CALENDAR.add_working_days(D(2026, 9, 30), 1).due == D(2026, 10, 8)


def test_given_the_2026_spring_festival_then_both_make_up_saturdays_count() -> None:
    # Sat Feb 14 (1); Feb 15-23 off; Feb 24-27 (5); Sat Feb 28 (6); Mar 2-6 (11);
    # Mar 9-12 (15).
    deadline = CALENDAR.add_working_days(D(2026, 2, 13), 15)
    assert deadline.due == D(2026, 3, 12)
    assert CALENDAR.add_working_days(D(2026, 2, 13), 1).due == D(2026, 2, 14)
    assert CALENDAR.add_working_days(D(2026, 2, 14), 1).due == D(2026, 2, 24)


def test_given_an_ordinary_fortnight_then_fifteen_working_days_are_three_weeks() -> None:
    deadline = CALENDAR.add_working_days(D(2026, 11, 2), 15)
    assert deadline.due == D(2026, 11, 23)


def test_given_a_year_the_package_does_not_cover_then_the_deadline_is_provisional() -> None:
    assert 2027 not in PACKAGE_YEARS  # if this fails, pick a later year below
    # Mon-Fri only through 2027: Dec 21-25 (5), Dec 28-31 (9), Jan 1-8, 2027 (15; the
    # official New Year holiday is not known yet, so Jan 1 counts).
    deadline = CALENDAR.add_working_days(D(2026, 12, 18), 15)
    assert deadline == type(deadline)(D(2027, 1, 8), provisional=True)
    assert CALENDAR.add_working_days(D(2026, 12, 1), 15).provisional is False


def test_given_official_dates_loaded_from_a_file_then_that_year_is_no_longer_provisional(
    tmp_path: Path,
) -> None:
    path = tmp_path / "official-holidays.yaml"
    path.write_text(
        "years:\n  2027:\n    holidays: [2027-01-01]\n    workdays: [2027-01-09]\n",
        encoding="utf-8",
    )
    calendar = WorkingCalendar(load_official_dates(path))
    # Dec 21-31 (9); Jan 1 a holiday; Jan 4-8 (14); Sat Jan 9, a make-up day (15).
    deadline = calendar.add_working_days(D(2026, 12, 18), 15)
    assert deadline.due == D(2027, 1, 9)
    assert deadline.provisional is False


@pytest.mark.parametrize(
    "text",
    [
        "years: 2027",
        "years:\n  2027:\n    holidays: [not-a-date]",
        "[",
        "years:\n  2027:\n    holidays: [2028-01-01]",
    ],
)
def test_given_a_malformed_calendar_file_then_it_is_refused(text: str) -> None:
    with pytest.raises(CalendarFileError):
        parse_official_dates(text)


def test_working_days_between_counts_forward_and_backward() -> None:
    assert CALENDAR.working_days_between(D(2026, 9, 28), D(2026, 10, 9)) == 4
    assert CALENDAR.working_days_between(D(2026, 10, 9), D(2026, 9, 28)) == -4
    assert CALENDAR.working_days_between(D(2026, 10, 9), D(2026, 10, 9)) == 0


def test_the_day_of_receipt_is_the_day_in_china() -> None:
    late_evening_utc = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)
    assert china_date(late_evening_utc) == D(2026, 10, 1)
