"""The aggregate query, checked: body shape (422 naming the field), then the caller's
rights on every dimension and measured field (403), then filter values (422)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from gateway.aggregates.dimensions import DIMENSIONS
from gateway.aggregates.schemas import AggregateQuery, DimensionName, Operation
from gateway.http.errors import FieldProblem, Forbidden, Unprocessable
from gateway.http.json_body import RequestBody
from gateway.http.struct_body import decode_struct
from policies.catalog import Catalog


def parse_query(body: RequestBody) -> AggregateQuery:
    return decode_struct(body, AggregateQuery, "aggregate query")


@dataclass(frozen=True, slots=True)
class CheckedQuery:
    query: AggregateQuery
    filters: dict[DimensionName, frozenset[str]]
    measured: tuple[str, ...]
    """Fields of the entity summed or averaged, in first-asked order."""


def _refuse(where: str, reason: str, detail: str) -> Unprocessable:
    return Unprocessable(detail, reason=reason, errors=(FieldProblem(where, reason),))


def check_query(
    query: AggregateQuery, catalog: Catalog, allowed: Collection[str], today: dt.date
) -> CheckedQuery:
    source = query.entity
    if len(set(query.group_by)) != len(query.group_by):
        raise _refuse("group_by", "duplicate_dimension", "a dimension is grouped by twice")
    dims = [(f"group_by[{i}]", d) for i, d in enumerate(query.group_by)]
    dims += [(f"filters[{i}].dimension", f.dimension) for i, f in enumerate(query.filters)]
    for where, name in dims:
        spec = DIMENSIONS[name]
        if source not in spec.sources:
            msg = f"{source.value} cannot be grouped or filtered by {name.value}"
            raise _refuse(where, "dimension_not_applicable", msg)
        if spec.field(source) not in allowed:
            msg = f"your roles may not aggregate by {name.value} for this purpose"
            raise Forbidden(
                msg,
                reason="dimension_not_allowed",
                errors=(FieldProblem(where, "dimension_not_allowed"),),
            )
    measured: list[str] = []
    entity = catalog.entity(source.value)
    for i, measure in enumerate(query.measures):
        where = f"measures[{i}].field"
        if measure.op is Operation.COUNT:
            if measure.field is not None:
                raise _refuse(where, "unexpected_field", "count takes no field")
            continue
        if measure.field is None:
            raise _refuse(where, "required", f"{measure.op.value} needs a field")
        known = {field.name: field for field in entity.fields}
        field = known.get(measure.field)
        if field is None or field.aggregate is None:
            msg = f"{source.value} has no aggregatable field of that name"
            raise _refuse(where, "not_aggregatable", msg)
        if field.qualified_name not in allowed:
            msg = f"your roles may not aggregate {field.qualified_name} for this purpose"
            raise Forbidden(
                msg, reason="field_not_allowed", errors=(FieldProblem(where, "field_not_allowed"),)
            )
        if field.name not in measured:
            measured.append(field.name)
    filters: dict[DimensionName, frozenset[str]] = {}
    for i, item in enumerate(query.filters):
        spec = DIMENSIONS[item.dimension]
        for j, value in enumerate(item.values):
            if not spec.valid(value, today):
                where = f"filters[{i}].values[{j}]"
                raise _refuse(
                    where, "invalid_filter_value", f"not a value of {item.dimension.value}"
                )
        values = frozenset(item.values)
        filters[item.dimension] = filters.get(item.dimension, values) & values
    return CheckedQuery(query, filters, tuple(measured))
