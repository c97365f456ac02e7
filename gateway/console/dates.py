"""Times as the viewer reads them: in the viewer's time zone, the offset always shown."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FALLBACK_ZONE = "UTC"


def zone_named(name: str | None, default: str = FALLBACK_ZONE) -> str:
    """`name` if it is a time zone this machine knows, else `default`."""
    if not name or len(name) > 64:
        return default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
    return name


def local_time(value: object, zone: str) -> str:
    """`2026-12-03 22:47:50 UTC+08:00` from a stored ISO time (UTC) or a datetime."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    shown = moment.astimezone(ZoneInfo(zone_named(zone)))
    offset = shown.strftime("%z")
    return f"{shown:%Y-%m-%d %H:%M:%S} UTC{offset[:3]}:{offset[3:]}"


def epoch_time(seconds: float, zone: str) -> str:
    return local_time(dt.datetime.fromtimestamp(seconds, dt.UTC), zone)
