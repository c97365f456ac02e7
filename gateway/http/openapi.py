"""The OpenAPI document served at `/schema/openapi.json`: Litestar's, completed.

Litestar documents each route from its handler: path and query parameters (with the
types and bounds the handlers declare), summaries, success responses. What the
handlers do not say to Litestar comes from their `ApiOperation` (`gateway.http.operations`)
and is added here, for every /v1 operation alike:

- the bearer API-key security scheme;
- the `X-Purpose`, `X-On-Behalf-Of` and `X-Request-Id` headers;
- the request body (a msgspec Struct, as a JSON Schema component);
- every error as an RFC 9457 problem (`application/problem+json`) with the `reason`
  words that operation can answer with, by status.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute
from litestar.serialization import encode_json
from msgspec import UNSET, Meta, UnsetType

from gateway.http.docs_ui import OfflineSwaggerPlugin
from gateway.http.headers import MAX_ON_BEHALF_OF
from gateway.http.json_body import DEFAULT_LIMITS
from gateway.http.operations import ApiOperation, Nothing, Problems, merge, operation_of

PROBLEM_MEDIA_TYPE = "application/problem+json"
SECURITY_SCHEME = "apiKey"
_REF = "#/components/schemas/{name}"

COMMON_PROBLEMS: Problems = {
    400: (
        "invalid_query",
        "ambiguous_header",
        "missing_purpose",
        "unknown_purpose",
        "invalid_on_behalf_of",
        "on_behalf_of_required",
    ),
    401: ("missing_api_key", "invalid_api_key"),
    403: ("purpose_not_allowed",),
    500: ("internal_error",),
    503: ("audit_unavailable",),
}
"""What every /v1 operation may answer: a query parameter (declared or not) holding a
control character (refused by the audit guard before routing, `gateway.http.paths`),
authentication and purpose (before anything else), the audit log being unavailable
(no entry, no data) and an unexpected failure."""

PATH_PROBLEMS: Problems = {404: ("non_canonical_path",)}
"""What every operation with a path parameter may answer: a parameter that makes the
path non-canonical (a control character, `.` or `..`, an encoded `/` or `\\`) is
refused before routing (`gateway.http.paths`)."""

_LARGEST_INTEGER = 10**DEFAULT_LIMITS.max_integer_digits - 1

NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u001f\\u007f]*$"
"""The pattern of every free-text query parameter: the audit guard refuses a control
character in any of them (400 `invalid_query`)."""

ON_BEHALF_OF_PATTERN = "^[!#$(-;=?-~]([ !#$(-;=?-~]*[!#$(-;=?-~])?$"
"""The plain form of `X-On-Behalf-Of` that the schema can state: printable ASCII
without markup (`<>"'&`) and without `%`, not blank (and, as in any header value, no
space at either end). The percent-encoded UTF-8 form
is described in words: whether an escape decodes to UTF-8 without markup is beyond
a pattern."""

BODY_PROBLEMS: Problems = {
    400: ("invalid_json", "invalid_body"),
    408: ("incomplete_body",),
    413: ("body_too_large",),
    415: ("unsupported_media_type",),
}
"""What every operation that reads a body may answer (`gateway.http.json_body`)."""


class FieldError(msgspec.Struct):
    field: Annotated[str, Meta(description="The field (or parameter, or policy place).")]
    reason: Annotated[str, Meta(description="Why, as a stable machine word.")]
    detail: str | UnsetType = UNSET


class Problem(msgspec.Struct):
    """RFC 9457 problem details. Never carries a value from the store or the request."""

    type: Annotated[str, Meta(description="`urn:wardgate:problem:<reason>`.")]
    title: str
    status: int
    detail: Annotated[str, Meta(description="For people; never quotes a value.")]
    reason: Annotated[str, Meta(description="A stable machine word, one per cause.")]
    errors: (
        Annotated[list[FieldError], Meta(description="Every bad field, each with its reason.")]
        | UnsetType
    ) = UNSET
    latest_version: (
        Annotated[int, Meta(description="With `version_conflict`: the newest policy version.")]
        | UnsetType
    ) = UNSET


_HEADERS: dict[str, dict[str, Any]] = {
    "XPurpose": {
        "name": "X-Purpose",
        "in": "header",
        "required": True,
        "description": "The purpose of processing this call serves (a purpose the policy "
        "declares and your principal may use), e.g. `customer_service`.",
        "schema": {"type": "string", "minLength": 1},
    },
    "XOnBehalfOf": {
        "name": "X-On-Behalf-Of",
        "in": "header",
        "required": False,
        "description": "The end user of the calling application (e.g. the desk agent), "
        "recorded in the audit entry: an opaque id of printable ASCII, or UTF-8 sent as is "
        "or percent-encoded (`%E5%BC%A0%E4%B8%89` is 张三); at most 128 characters once "
        "decoded; no markup (`<`, `>`, `\"`, `'`, `&`) or control characters. Some "
        "principals must send it. (The schema's pattern states the plain ASCII form.)",
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_ON_BEHALF_OF,
            "pattern": ON_BEHALF_OF_PATTERN,
        },
    },
    "XRequestId": {
        "name": "X-Request-Id",
        "in": "header",
        "required": False,
        "description": "Your id for this request: 1 to 128 of `A-Z a-z 0-9 . _ : -`, "
        "echoed in the response and recorded in the audit entry. Any other value is "
        "not refused: a generated id takes its place (and is echoed).",
        "schema": {"type": "string"},
    },
}
_REQUEST_ID_HEADER = {
    "X-Request-Id": {
        "description": "The request's id (yours if you sent a valid one).",
        "schema": {"type": "string"},
    }
}


def _routes(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method, (handler, _) in route.route_handler_map.items():
                yield route.path_format or "/", method.lower(), handler


def _problem_response(status: int, reasons: tuple[str, ...]) -> dict[str, Any]:
    phrase = HTTPStatus(status).phrase
    return {
        "description": f"{phrase}: `" + "`, `".join(reasons) + "`",
        "headers": copy.deepcopy(_REQUEST_ID_HEADER),
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {
                    "allOf": [
                        {"$ref": _REF.format(name="Problem")},
                        {
                            "type": "object",
                            "properties": {
                                "status": {"const": status},
                                "reason": {"enum": list(reasons)},
                            },
                        },
                    ]
                }
            }
        },
    }


def problems_of(spec: ApiOperation, *, path_parameters: bool = False) -> Problems:
    """Every (status, reasons) of an operation, the shared ones included."""
    groups = [COMMON_PROBLEMS, spec.problems]
    if spec.body is not None and spec.body.schema is not Nothing:
        groups.append(BODY_PROBLEMS)
    if path_parameters:
        groups.append(PATH_PROBLEMS)
    return merge(*groups)


def _state_free_text(parameter: dict[str, Any]) -> None:
    """A free-text query parameter states that it holds no control character."""
    schema = parameter.get("schema")
    if parameter.get("in") != "query" or not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
        schema["pattern"] = NO_CONTROL_CHARACTERS


def _bound_integers(schema: Any) -> None:
    """Every integer of a body states the bound the JSON parser enforces (at most
    `max_integer_digits` digits, `gateway.http.json_body`), where it states no tighter one."""
    if isinstance(schema, list):
        for item in schema:
            _bound_integers(item)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "integer":
        schema.setdefault("maximum", _LARGEST_INTEGER)
        schema.setdefault("minimum", -_LARGEST_INTEGER)
    for value in schema.values():
        _bound_integers(value)


def _media_of_success(answer: dict[str, Any], media_types: tuple[str, ...]) -> None:
    """A success answer sent as other media than JSON (an export): each one documented."""
    if media_types:
        answer["content"] = {media: {"schema": {"type": "string"}} for media in media_types}


def _complete_operation(
    document_op: dict[str, Any],
    spec: ApiOperation,
    bodies: dict[str, type[msgspec.Struct]],
    *,
    path_parameters: bool,
) -> None:
    document_op["security"] = [{SECURITY_SCHEME: []}]
    headers = [{"$ref": f"#/components/parameters/{name}"} for name in _HEADERS]
    own = list(document_op.get("parameters", []))
    for parameter in own:
        _state_free_text(parameter)
    document_op["parameters"] = headers + own
    if spec.body is not None:
        name = spec.body.schema.__name__
        bodies[name] = spec.body.schema
        content: dict[str, Any] = {"application/json": {"schema": {"$ref": _REF.format(name=name)}}}
        if spec.body.plain_text:
            content["text/plain"] = {"schema": {"type": "string"}}
        body: dict[str, Any] = {"required": spec.body.required, "content": content}
        if spec.body.description:
            body["description"] = spec.body.description
        document_op["requestBody"] = body
    responses: dict[str, Any] = {
        code: answer
        for code, answer in document_op.get("responses", {}).items()
        # Litestar's own error schema ({status_code, detail, extra}) is not what we send.
        if code.startswith(("1", "2", "3"))
    }
    for code, answer in responses.items():
        answer.setdefault("headers", {}).update(copy.deepcopy(_REQUEST_ID_HEADER))
        if code.startswith("2"):
            _media_of_success(answer, spec.success_media_types)
    for status, reasons in sorted(problems_of(spec, path_parameters=path_parameters).items()):
        responses[str(status)] = _problem_response(status, reasons)
    document_op["responses"] = responses


def complete_document(app: Litestar, generated: Mapping[str, Any]) -> dict[str, Any]:
    """The served document: Litestar's `generated` one with every /v1 operation completed."""
    document = copy.deepcopy(dict(generated))
    bodies: dict[str, type[msgspec.Struct]] = {}
    for path, method, handler in _routes(app):
        spec = operation_of(handler)
        document_op = document.get("paths", {}).get(path, {}).get(method)
        if spec is None or document_op is None:
            continue
        _complete_operation(document_op, spec, bodies, path_parameters="{" in path)
    _, schemas = msgspec.json.schema_components([Problem, *bodies.values()], ref_template=_REF)
    for name in bodies:
        _bound_integers(schemas.get(name))
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(schemas)
    components["parameters"] = copy.deepcopy(_HEADERS)
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "Wardgate API key (wg_...)",
            "description": "`Authorization: Bearer <API key>`; keys are issued by "
            "`wardgate keys issue` or the policy API and shown once.",
        }
    }
    return document


class CompleteJsonPlugin(JsonRenderPlugin):
    """`/schema/openapi.json`: the completed document, built once per application."""

    def __init__(self) -> None:
        super().__init__()
        self._built: tuple[Mapping[str, Any], bytes] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._built is None or self._built[0] is not openapi_schema:
            document = complete_document(request.app, openapi_schema)
            self._built = (openapi_schema, encode_json(document))
        return self._built[1]


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Wardgate",
        version="1",
        description=(
            "Privacy and data-governance gateway for customer data. Every /v1 call sends "
            "`Authorization: Bearer <API key>` and `X-Purpose`; each one leaves exactly one "
            "audit entry. Errors are RFC 9457 problem documents with a stable `reason`."
        ),
        path="/schema",
        render_plugins=[OfflineSwaggerPlugin(), CompleteJsonPlugin()],
    )
