"""Checks that span more than one field of a record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from policies.formats._errors import FieldInvalid, Reason
from policies.formats._identity import birth_date_from_resident_id
from policies.formats._time import parse_iso_date


def _as_date(value: object) -> dt.date:
    # A stored record may hold a date object; a request holds ISO text.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    return parse_iso_date(value)


def check_consistency(record: Mapping[str, object]) -> list[tuple[str, Reason]]:
    """Cross-field problems of a record, as `(field, reason)` pairs.

    Pass the record as it will be stored (for a PATCH, the stored record with the
    changes applied), or a change to `id_number` alone slips past the check.
    A field that is itself invalid is not reported here: its own validator does
    that, and a second error on the same field would only add noise.
    """
    problems: list[tuple[str, Reason]] = []
    id_number = record.get("id_number")
    birth_date = record.get("birth_date")
    if isinstance(id_number, str) and birth_date is not None:
        try:
            encoded = birth_date_from_resident_id(id_number)
            given = _as_date(birth_date)
        except FieldInvalid:
            return problems
        if encoded != given:
            problems.append(("birth_date", "birth_date_mismatch"))
    return problems
