"""The aggregate query: declared data (a msgspec body with enums), never SQL."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta

MAX_DIMENSIONS = 2
MAX_MEASURES = 4
MAX_FILTER_VALUES = 64


class Source(StrEnum):
    """What is counted: customers, or their orders or interactions."""

    CUSTOMERS = "customers"
    ORDERS = "orders"
    INTERACTIONS = "interactions"


class Operation(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"


class DimensionName(StrEnum):
    REGION = "region"
    TIER = "tier"
    AGE_BAND = "age_band"
    """Derived from the birth date (or the resident ID); the date is never released."""
    MONTH = "month"
    """`YYYY-MM` of the order or interaction."""
    CHANNEL = "channel"


class Measure(msgspec.Struct, forbid_unknown_fields=True):
    op: Operation
    field: (
        Annotated[
            str,
            Meta(
                description="For sum and mean: a numeric field of the entity that the "
                "catalog marks aggregatable (orders.amount, interactions.satisfaction).",
                max_length=64,
            ),
        ]
        | None
    ) = None


class Filter(msgspec.Struct, forbid_unknown_fields=True):
    dimension: DimensionName
    values: Annotated[
        list[Annotated[str, Meta(max_length=64)]],
        Meta(min_length=1, max_length=MAX_FILTER_VALUES, description="Any of these values."),
    ]


class AggregateQuery(msgspec.Struct, forbid_unknown_fields=True):
    """Counts, sums or means over one entity, grouped by up to two dimensions."""

    entity: Source
    measures: Annotated[list[Measure], Meta(min_length=1, max_length=MAX_MEASURES)]
    group_by: Annotated[list[DimensionName], Meta(max_length=MAX_DIMENSIONS)] = msgspec.field(
        default_factory=list
    )
    filters: Annotated[list[Filter], Meta(max_length=5)] = msgspec.field(default_factory=list)
    epsilon: (
        Annotated[
            float,
            Meta(
                gt=0,
                description="With differential privacy on: the ε to spend on this answer "
                "(at most the purpose's epsilon_per_query, which is the default).",
            ),
        ]
        | None
    ) = None
