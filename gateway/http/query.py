"""Query parameters of the /v1 handlers: declared with their documented type and bounds,
received as the text that was sent.

A handler declares every query parameter it reads (`Annotated[str | None, query(...)]`),
so the OpenAPI document lists exactly what each operation accepts. The value reaches the
pipeline unparsed: the pipeline checks it after authentication and answers with its own
stable reason (`invalid_limit`, `invalid_time`, ...), where Litestar's own conversion
would answer with a generic 400 and before the caller is known.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar.params import Parameter

from gateway.customers.read import DEFAULT_PAGE, MAX_PAGE


def query(description: str, *, required: bool = False, **schema: Any) -> Any:
    """A query parameter documented with `schema` (JSON Schema keywords such as
    `type`, `minimum`, `maximum`, `enum`, `format`). `required` is documentation
    too: a missing value reaches the pipeline as None and is refused there."""
    return Parameter(
        description=description,
        required=required or None,
        # The declared type is `str | None`; the document states the value's own type.
        schema_extra={"oneOf": None, "type": "string", **schema},
    )


Limit = Annotated[
    str | None,
    query(
        f"Page size, 1 to {MAX_PAGE}.",
        type="integer",
        minimum=1,
        maximum=MAX_PAGE,
        default=DEFAULT_PAGE,
    ),
]
Cursor = Annotated[
    str | None,
    query("The `next_cursor` of the previous page, unchanged."),
]
