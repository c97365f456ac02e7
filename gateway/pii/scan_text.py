"""`POST /v1/scan`: the personal data in a text, and the text as the caller may see it.

For checking a text before it is stored or shared, and for classifying a source. The
caller needs the `scan` right under its purpose. Entities come back as type, offsets
(Unicode code points, as Python counts them) and score — never their value; the masked
text follows the caller's text plan, as a note would on read. The audit entry records
the types and counts found (`classification`), never the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from gateway.compliance.entries import append_now
from gateway.governance.call import GovernedCall
from gateway.governance.text_plan import TextPlan
from gateway.http.errors import (
    BadRequest,
    FieldProblem,
    Forbidden,
    PayloadTooLarge,
    Unprocessable,
)
from gateway.http.json_body import (
    DEFAULT_LIMITS,
    RequestBody,
    check_media_type,
    check_utf8_encoding,
    parse_json_bytes,
)
from gateway.pii.detector import classify
from masking.detection import DetectedEntity

LANGUAGES = ("zh", "en")
_BODY_KEYS = frozenset({"text", "language"})
SCORE_DIGITS = 4


@dataclass(frozen=True, slots=True)
class ScanRequest:
    text: str
    language: str | None


def _invalid(field: str, reason: str, detail: str) -> Unprocessable:
    return Unprocessable(detail, reason=reason, errors=(FieldProblem(field, reason),))


def _language(value: object) -> str | None:
    if value is None:
        return None
    if value not in LANGUAGES:
        msg = f"language must be one of {', '.join(LANGUAGES)}, or absent to detect both"
        raise _invalid("language", "unsupported_language", msg)
    return str(value)


def _from_document(document: object) -> ScanRequest:
    if not isinstance(document, dict):
        msg = 'the request body must be a JSON object such as {"text": "..."}'
        raise BadRequest(msg, reason="invalid_body")
    unknown = sorted(set(document) - _BODY_KEYS)
    if unknown:
        problems = tuple(FieldProblem(name, "unknown_field") for name in unknown)
        msg = f"unknown fields: {', '.join(unknown)}"
        raise Unprocessable(msg, reason="unknown_field", errors=problems)
    if "text" not in document:
        msg = "the body needs a text to scan"
        raise _invalid("text", "required", msg)
    if not isinstance(document["text"], str):
        msg = "text must be a string"
        raise _invalid("text", "invalid_type", msg)
    return ScanRequest(document["text"], _language(document.get("language")))


def parse_scan_request(body: RequestBody, query: Mapping[str, str], max_bytes: int) -> ScanRequest:
    """A JSON body `{"text", "language"?}`, or the text itself as `text/plain` (with
    `?language=`). UTF-8 only; the text may be at most `max_bytes` bytes."""
    media_type, _, _ = (body.content_type or "").partition(";")
    plain = media_type.strip().lower() == "text/plain"
    if not plain:
        check_media_type(body.content_type)
    check_utf8_encoding(body.raw)
    try:
        decoded = body.raw.decode("utf-8")
    except UnicodeDecodeError:
        msg = "the request body is not valid UTF-8"
        raise BadRequest(msg, reason="invalid_utf8") from None
    if plain:
        request = ScanRequest(decoded, _language(query.get("language")))
    else:
        # The text's own bound is `max_bytes` (413 below), not the JSON string limit.
        limits = replace(
            DEFAULT_LIMITS, max_string_chars=max(DEFAULT_LIMITS.max_string_chars, max_bytes)
        )
        request = _from_document(parse_json_bytes(body.raw, limits))
    size = len(request.text.encode("utf-8"))
    if size > max_bytes:
        msg = f"text is {size} bytes; this gateway scans at most {max_bytes}"
        raise PayloadTooLarge(
            msg, reason="text_too_large", errors=(FieldProblem("text", "text_too_large"),)
        )
    return request


def _effects(plan: TextPlan, found: list[DetectedEntity]) -> dict[str, str]:
    """What the masked text did with each type found, in governance words."""
    effects: dict[str, str] = {}
    for entity in found:
        _, rule = plan.rule(entity.entity_type)
        if rule.withheld is not None:
            effects[entity.entity_type] = f"withheld:{rule.withheld}"
        else:
            effects[entity.entity_type] = "clear" if rule.transform is None else "masked"
    return dict(sorted(effects.items()))


async def scan_text(
    call: GovernedCall, body: RequestBody, query: Mapping[str, str]
) -> dict[str, object]:
    if "scan" not in call.plan.policy.api_rights:
        msg = f"your roles may not scan texts for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="scan_not_allowed")
    request = parse_scan_request(body, query, call.state.settings.scan_max_bytes)
    found: list[DetectedEntity] = []
    if request.text:
        (found,) = await call.state.scanner.detect([request.text], language=request.language)
    call.audit.classification = {"text": classify(found)}
    plan = call.plan.text
    governance: dict[str, object] = {
        "purpose": call.purpose.id,
        "policy_version": call.plan.version,
        "entities": _effects(plan, found),
    }
    response = {
        "entities": [
            {
                "type": entity.entity_type,
                "start": entity.start,
                "end": entity.end,
                "score": round(entity.score, SCORE_DIGITS),
            }
            for entity in found
        ],
        "masked_text": str(plan.rewrite(request.text, found)),
    }
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return response | {"governance": governance}
