"""How the audit guard reads a request target: the way the router does, not by spelling.

Litestar's router splits the path on "/" and drops empty segments, so `//v1/customers`,
`///v1` and `/v1//customers/` all reach the `/v1` handlers. The guard therefore decides
"is this a /v1 request" on the same segments (`names_v1`: every /v1 route starts with
a literal `v1` segment), not on a prefix; after routing, a /v1 route template decides.

Spellings that a proxy in front and this router could read differently are refused
before routing (`non_canonical`): dot segments (`/v1/../v1/…`, `/v1/./…`), percent-encoded
separators (`%2F`, `%5C`, which the server decodes into the path), backslashes and
control characters. The refusal is a 404 that is audited when the path names `v1`.

A query parameter holding a control character (`?principal=%00`) is refused too (400
`invalid_query`): no parameter of the API takes one, and a NUL reaching a PostgreSQL
text comparison fails the statement instead of matching nothing.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from litestar.types import Scope

# Each check is one regular expression: the guard runs them on every request, and a
# split or a per-character loop in Python cost several microseconds each.
_ENCODED_SEPARATOR = re.compile(rb"%(?:2f|5c)", re.IGNORECASE)
_V1_SEGMENT = re.compile(r"(?:^|[/\\])v1(?=[/\\]|$)", re.IGNORECASE)
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?=/|$)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PARAMETER_NAME = re.compile(r"[a-z_]{1,32}")


def _path(scope: Scope) -> str:
    path: str = scope["path"]
    # As the router does: a path under a configured root path is routed without it.
    if root_path := scope.get("root_path", ""):
        path = path.split(root_path, maxsplit=1)[-1]
    return path


def names_v1(scope: Scope) -> bool:
    """Whether any segment reads `v1`, in any case: the router's way into the /v1 tree
    (first segment), and a request audited even when refused or routed nowhere. A
    backslash counts as a separator here, as some proxies read it."""
    return _V1_SEGMENT.search(_path(scope)) is not None


def non_canonical(scope: Scope) -> str | None:
    """Why this path is refused before routing, or None when it may be routed."""
    raw_path = scope.get("raw_path") or b""
    if _ENCODED_SEPARATOR.search(raw_path):
        return "encoded_separator"
    path = _path(scope)
    if "\\" in path:
        return "backslash"
    if _has_control(path):
        return "control_character"
    if _DOT_SEGMENT.search(path):
        return "dot_segment"
    return None


def _has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def bad_query_parameter(scope: Scope) -> str | None:
    """The name of the first query parameter that holds a control character, or None.
    A name that is not a plain word (the API's are) is not echoed: "query" stands in."""
    query = scope.get("query_string") or b""
    if not query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if _has_control(name) or _has_control(value):
            return name if _PARAMETER_NAME.fullmatch(name) else "query"
    return None
