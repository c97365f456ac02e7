"""Form values to use-case parameters: times typed in the viewer's zone, blanks dropped.

A browser's `datetime-local` field sends `2026-12-03T09:30` without a zone: it is read
in the viewer's time zone and passed on as ISO 8601 with its offset. Anything else is
passed on as typed, so the use case judges it (and names the field) as the API does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request

from gateway.console.dates import zone_named

AnyRequest = Request[Any, Any, Any]
_LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


def as_iso(value: str | None, zone: str) -> str | None:
    if not value:
        return None
    for layout in _LOCAL_FORMATS:
        try:
            naive = dt.datetime.strptime(value, layout)  # noqa: DTZ007 - zone added below
        except ValueError:
            continue
        return naive.replace(tzinfo=ZoneInfo(zone_named(zone))).isoformat()
    return value


def present(query: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The named fields that hold something, stripped."""
    return {name: query[name].strip() for name in names if query.get(name, "").strip()}


def link(path: str, params: Mapping[str, str]) -> str:
    """A console link with these query parameters (escaped when the page is drawn)."""
    return f"{path}?{urlencode(params)}" if params else path


def query_of(request: AnyRequest) -> dict[str, str]:
    """The query string as single values (the first of repeated names)."""
    params = request.query_params
    return {name: str(params.get(name)) for name in params}
