"""`POST /v1/scan`: parse the request, hand it to the scan pipeline."""

from __future__ import annotations

from typing import Annotated

from litestar import post
from litestar.di import NamedDependency

from gateway.http.dependencies import GovernedCallDependency, RawBody
from gateway.http.operations import DeclaredBody, operation
from gateway.http.query import query
from gateway.pii.scan_text import LANGUAGES, scan_text
from gateway.pii.schemas import ScanText

_PROBLEMS = {
    400: ("invalid_utf8",),
    403: ("scan_not_allowed",),
    413: ("text_too_large",),
    415: ("unsupported_media_type",),
    422: ("unknown_field", "required", "invalid_type", "unsupported_language"),
}


@post(
    "/v1/scan",
    summary="The personal data found in a text (types and offsets) and its masked form",
    tags=["scan"],
    status_code=200,
    opt=operation(
        "text.scan",
        None,
        body=DeclaredBody(ScanText, plain_text=True),
        problems=_PROBLEMS,
    ),
)
async def scan(
    call: GovernedCallDependency,
    raw_body: NamedDependency[RawBody],
    language: Annotated[
        str | None,
        query(
            "With a `text/plain` body: detect one language only (ignored with JSON, whose "
            "body names it).",
            enum=list(LANGUAGES),
        ),
    ] = None,
) -> dict[str, object]:
    query_language = {"language": language} if language is not None else {}
    return await scan_text(call, await raw_body.read(), query_language)
