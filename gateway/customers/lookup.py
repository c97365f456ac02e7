"""Exact lookup by a blind-indexed field: `GET /v1/customers?phone=…`.

The value is validated and normalized like a write, MACed with the index key, and
matched against the index column: no row is decrypted to search. Searching by a field
is a right of its own (a role that may not see phones may not probe for one), and the
value never reaches the audit entry or a log line — only which field was searched.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.customers import read
from gateway.customers.read import GovernedResult
from gateway.governance.call import GovernedCall
from gateway.http.errors import BadRequest, FieldProblem, Forbidden, Unprocessable
from policies.formats import FieldInvalid, validate

LOOKUP_FIELDS = ("phone", "email", "id_number")


def lookup_requested(params: Mapping[str, str]) -> list[str]:
    return [name for name in LOOKUP_FIELDS if name in params]


async def lookup_customers(
    call: GovernedCall, params: Mapping[str, str], *, limit: str | None, cursor: str | None
) -> GovernedResult:
    fields = lookup_requested(params)
    if len(fields) != 1:
        msg = f"look up by exactly one of: {', '.join(LOOKUP_FIELDS)}"
        raise BadRequest(msg, reason="one_lookup_field")
    (field_name,) = fields
    call.audit.action = f"customers.lookup.{field_name}"
    if field_name not in call.view("customers").lookupable:
        msg = f"your roles may not look customers up by {field_name}"
        raise Forbidden(
            msg,
            reason="lookup_not_allowed",
            errors=(FieldProblem(field_name, "lookup_not_allowed"),),
        )
    spec = call.state.catalog.entity("customers").field(field_name)
    try:
        normalized = validate(spec.format, params[field_name], required=True)
    except FieldInvalid as invalid:
        msg = f"the {field_name} to look up is not valid"
        raise Unprocessable(
            msg, reason=invalid.reason, errors=(FieldProblem(field_name, invalid.reason),)
        ) from None
    digest = call.state.protector.blind_index("customers", field_name, str(normalized))
    return await read.read_page(
        call, "customers", limit=limit, cursor=cursor, lookup=(field_name, digest)
    )
