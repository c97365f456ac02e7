"""Dates: the year stays, month and day go."""

import pytest

from masking import default_registry


def mask(value: str) -> str:
    return default_registry().bind("date_year")(value)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("1990-05-17", "1990-**-**"),
        ("1990/5/17", "1990/**/**"),
        ("1990.05.17", "1990.**.**"),
        ("19900517", "1990****"),
        ("1990年5月17日", "1990年**月**日"),
        ("17.05.1990", "**.**.1990"),
        ("May 17, 1990", "** **, 1990"),
        ("1990-05-17T08:30:00", "1990-**-**:**:**"),
    ],
)
def test_given_date_then_only_the_year_is_kept(value: str, masked: str) -> None:
    assert mask(value) == masked


@pytest.mark.parametrize("value", ["90-05-17", "unknown", "0517"])
def test_given_no_four_digit_year_then_it_is_redacted(value: str) -> None:
    assert mask(value) == "****"


def test_given_empty_date_then_result_is_empty() -> None:
    assert mask("") == ""
