"""The working calendar in force: the package's dates plus the operator's official file,
read once per change of that file (not per request)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from gateway.dsr.working_days import CHINA, WorkingCalendar, load_official_dates
from gateway.settings import Settings


@cache
def _calendar(path: Path | None, mtime_ns: int) -> WorkingCalendar:
    del mtime_ns  # part of the cache key only: an edited file is read again
    return WorkingCalendar(load_official_dates(path))


def calendar_for(settings: Settings) -> WorkingCalendar:
    path = settings.calendar_file
    try:
        mtime = path.stat().st_mtime_ns if path is not None else 0
    except OSError:
        mtime = -1  # unreadable: load_official_dates says so
    return _calendar(path, mtime)


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA).date()
