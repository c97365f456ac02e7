"""`POST /v1/aggregates`: parse nothing here, hand the body to the aggregate pipeline."""

from __future__ import annotations

from litestar import post
from litestar.di import NamedDependency

from gateway.aggregates.schemas import AggregateQuery
from gateway.aggregates.service import aggregate
from gateway.http.dependencies import GovernedCallDependency, RawBody
from gateway.http.operations import operation

_PROBLEMS = {
    403: (
        "aggregate_not_allowed",
        "dimension_not_allowed",
        "field_not_allowed",
        "differencing_risk",
    ),
    422: (
        "unknown_field",
        "required",
        "invalid_value",
        "duplicate_dimension",
        "dimension_not_applicable",
        "unexpected_field",
        "not_aggregatable",
        "invalid_filter_value",
        "epsilon_too_large",
    ),
    429: ("privacy_budget_exhausted",),
}


@post(
    "/v1/aggregates",
    summary="Counts, sums and means by allowed dimensions: minimum cohort, complementary "
    "suppression, differencing rule or differential privacy with a budget",
    tags=["aggregates"],
    status_code=200,
    opt=operation("aggregates.query", None, body=AggregateQuery, problems=_PROBLEMS),
)
async def aggregates(
    call: GovernedCallDependency, raw_body: NamedDependency[RawBody]
) -> dict[str, object]:
    return await aggregate(call, await raw_body.read())
