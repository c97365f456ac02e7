"""The request headers that decide who is calling, why, and for whom.

`Authorization`, `X-Purpose` and `X-On-Behalf-Of` must each come at most once: with
two, a proxy and the gateway could each believe a different one, so the request is
refused (400 `ambiguous_header`) instead of silently taking the first.

`X-On-Behalf-Of` names the end user of the calling application (the desk agent who
looks a customer up). It is an opaque id: printable ASCII, or UTF-8 either sent as is
or percent-encoded (`%E5%BC%A0%E4%B8%89` is 张三; a literal `%` is `%25`); at most 128
characters once decoded; no markup characters (`<`, `>`, `"`, `'`, `&`) and no control
characters. It is stored decoded and exact in the audit entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import unquote

from gateway.http.errors import BadRequest, FieldProblem

ON_BEHALF_OF = "X-On-Behalf-Of"
MAX_ON_BEHALF_OF = 128
"""Characters after decoding (the audit column holds 128)."""
SINGLE_HEADERS = ("Authorization", "X-Purpose", ON_BEHALF_OF)

_MARKUP = frozenset("<>\"'&")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class HeaderSource(Protocol):
    """What the gateway needs of a request's headers (Litestar's `Headers` has both)."""

    def get(self, key: str, /) -> str | None: ...

    def getall(self, key: str, default: list[str], /) -> list[str]: ...


class RequestHeaders:
    """A request's headers, read once from the ASGI scope's raw list: names without case
    (as Litestar's `Headers`), values as Latin-1 text.

    The governed call reads four headers of every request; Litestar's `Headers` builds a
    case-insensitive multidict and its scope state for that, at several times the cost.
    """

    __slots__ = ("_values",)

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        values: dict[str, list[str]] = {}
        for name, value in raw:
            values.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        self._values = values

    def __repr__(self) -> str:
        # Names only: values carry API keys and end-user ids.
        return f"RequestHeaders({sorted(self._values)})"

    def get(self, key: str, /) -> str | None:
        values = self._values.get(key.lower())
        return values[0] if values else None

    def getall(self, key: str, default: list[str], /) -> list[str]:
        values = self._values.get(key.lower())
        return list(values) if values else default


def single_header(headers: HeaderSource, name: str) -> str | None:
    """The one value of `name`, None when absent; 400 `ambiguous_header` when repeated."""
    values = headers.getall(name.lower(), [])
    if len(values) > 1:
        msg = f"the {name} header is sent more than once; send it once"
        raise BadRequest(
            msg, reason="ambiguous_header", errors=(FieldProblem(name, "ambiguous_header"),)
        )
    return values[0] if values else None


def _refused(reason: str, detail: str) -> BadRequest:
    msg = f"{ON_BEHALF_OF} {detail}"
    return BadRequest(
        msg, reason="invalid_on_behalf_of", errors=(FieldProblem(ON_BEHALF_OF, reason),)
    )


def parse_on_behalf_of(raw: str) -> str:
    """The end-user id as sent, decoded; 400 `invalid_on_behalf_of` naming why not."""
    try:
        # Header values arrive as Latin-1 (RFC 9110 obs-text): raw UTF-8 is recovered.
        text = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise _refused("invalid_encoding", "must be UTF-8 text or percent-encoded") from None
    if _BAD_ESCAPE.search(text):
        raise _refused("invalid_encoding", "has a '%' that is not an escape: send it as %25")
    try:
        value = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise _refused("invalid_encoding", "percent-encodes bytes that are not UTF-8") from None
    if not value.strip():
        raise _refused("empty", "is empty")
    if len(value) > MAX_ON_BEHALF_OF:
        raise _refused("too_long", f"is longer than {MAX_ON_BEHALF_OF} characters")
    if not value.isprintable():
        raise _refused("not_printable", "holds control or other non-printable characters")
    if _MARKUP.intersection(value):
        raise _refused("markup_character", "holds a markup character (< > \" ' &)")
    return value
