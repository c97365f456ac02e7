"""Fulfilment of a request in progress, by type, and the package download.

Nothing partial is stored: each type's work and the move to `completed` commit in one
transaction where the work is ours (packages, explanation), or the reused use case
commits its change with its audit entry first (correction through the PATCH pipeline,
deletion through erasure) and a retry completes the request. When a step fails, the
request stays `in_progress` with the failure's reason word recorded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError

from gateway.compliance.entries import append_in_transaction
from gateway.customers.erase import erase_customer
from gateway.customers.read import GovernedResult
from gateway.customers.write import update_customer
from gateway.db.schema import dsr_requests, store_tables
from gateway.dsr import records
from gateway.dsr.explanation import build_explanation
from gateway.dsr.machine import Action, RefusalReason, RequestType, Status, next_status
from gateway.dsr.package import build_access_package, open_sealed, seal
from gateway.dsr.package_html import render_html
from gateway.dsr.rights import require_handle_right
from gateway.dsr.service import ENTITY, governance_of, shown
from gateway.governance.call import GovernedCall
from gateway.http.errors import (
    AuditUnavailable,
    BadRequest,
    Conflict,
    FieldProblem,
    GatewayError,
    Gone,
)
from gateway.http.json_body import JSON_MEDIA_TYPE, RequestBody
from gateway.retention.holds import is_on_legal_hold
from keys import CiphertextIntegrityError, DataKeyMissingError, FieldContext, token_key_version

Json = dict[str, Any]

LEGAL_HOLD_TEXT = (
    "该个人信息处于法律保留（诉讼或监管保全）状态，"
    "依法暂不能删除（《个人信息保护法》第四十七条第二款）。"
)


async def _record_failure(call: GovernedCall, dsr_id: str, reason: str) -> None:
    """Keep the request in progress and say why it did not complete (no audit entry of
    its own: the request's entry says the same with its status and reason)."""
    try:
        async with call.state.db.writer.begin() as conn:
            row = await records.load(conn, call, dsr_id)
            if Status(row.status) is not Status.IN_PROGRESS:
                return
            at = records.now_text()
            await conn.execute(
                update(dsr_requests)
                .where(dsr_requests.c.id == dsr_id, dsr_requests.c.status == row.status)
                .values(failure=reason, updated_at=at)
            )
            await records.add_event(
                conn,
                call,
                dsr_id,
                Action.FAIL,
                Status.IN_PROGRESS,
                Status.IN_PROGRESS,
                {"reason": reason},
                at,
            )
    except SQLAlchemyError:
        return  # the request's own audit entry still records the failure


async def fulfil(call: GovernedCall, dsr_id: str) -> GovernedResult:
    require_handle_right(call)
    call.audit.entity = ENTITY
    async with call.state.db.reader.connect() as conn:
        row = await records.load(conn, call, dsr_id)
    next_status(Status(row.status), Action.FULFIL)
    kind = RequestType(row.type)
    try:
        if kind in (RequestType.ACCESS, RequestType.PORTABILITY, RequestType.EXPLANATION):
            await _package(call, row, kind)
        elif kind is RequestType.CORRECTION:
            await _correct(call, row)
        else:
            await _delete(call, row)
    except GatewayError as exc:
        if exc.status != 409:
            await _record_failure(call, dsr_id, exc.reason)
        raise
    except DataKeyMissingError:
        call.audit.seq = None
        await _record_failure(call, dsr_id, "erased")
        msg = "this customer's personal information was already erased"
        raise Gone(msg, reason="erased") from None
    except (SQLAlchemyError, CiphertextIntegrityError) as exc:
        call.audit.seq = None
        await _record_failure(call, dsr_id, "store_unavailable")
        msg = "the request could not be fulfilled; it stays in progress, retry it"
        raise AuditUnavailable(msg) from exc
    async with call.state.db.reader.connect() as conn:
        done = await records.load(conn, call, dsr_id)
    return GovernedResult(data=shown(call, done), governance=governance_of(call, call.audit.seq))


async def _package(call: GovernedCall, row: Any, kind: RequestType) -> None:
    protector = call.state.protector
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=call.state.settings.dsr_package_days)
    async with call.state.db.writer.begin() as conn:
        if kind is RequestType.EXPLANATION:
            package = await build_explanation(conn, call.snapshot.document, row)
            result: Json = {"purposes": len(package["purposes"])}
        else:
            package = await build_access_package(conn, protector, row)
            result = {
                "interactions": len(package["interactions"]),
                "orders": len(package["orders"]),
                "consents": len(package["consents"]),
                "accesses": len(package["access_report"]),
            }
        key = await protector.keystore.current_key(row.customer_id)
        values = {
            "package": seal(protector, key, row.id, package),
            "package_expires_at": expires.isoformat(timespec="seconds"),
            "package_downloads": 0,
            "failure": None,
            "result": result,
        }
        await records.transition(conn, call, row, Action.FULFIL, values=values, detail=result)


async def _correct(call: GovernedCall, row: Any) -> None:
    """Apply the requested changes through the PATCH pipeline (same validation, same
    reasons, the change and its audit entry in one transaction), then complete."""
    protector = call.state.protector
    key = await protector.keystore.current_key(row.customer_id)
    changes = protector.cipher.decrypt(key, FieldContext(ENTITY, "payload", row.id), row.payload)
    call.audit.fields = {}
    await update_customer(call, row.customer_id, RequestBody(changes.encode(), JSON_MEDIA_TYPE))
    seq = call.audit.seq
    fields = sorted(orjson.loads(changes))
    call.audit.record_ids = (row.id, row.customer_id)
    async with call.state.db.writer.begin() as conn:
        current = await records.load(conn, call, row.id)
        result = {"correction_audit_id": seq, "fields": fields}
        await records.transition(
            conn,
            call,
            current,
            Action.FULFIL,
            values={"failure": None, "result": result, "payload": None},
            detail=result,
            audit_status=None,
        )


async def _delete(call: GovernedCall, row: Any) -> None:
    """Erasure by crypto-shredding plus the customer's related rows, unless a legal hold
    applies: then the request is refused with reason `legal_hold` (a 409 for the caller)."""
    async with call.state.db.writer.begin() as conn:
        held = await is_on_legal_hold(conn, row.customer_id)
        if held:
            call.audit.reason = RefusalReason.LEGAL_HOLD.value
            values = {
                "refusal_reason": RefusalReason.LEGAL_HOLD.value,
                "refusal_text": LEGAL_HOLD_TEXT,
            }
            await records.transition(
                conn,
                call,
                row,
                Action.REFUSE,
                values=values,
                detail={"reason": RefusalReason.LEGAL_HOLD.value},
                audit_status=409,
            )
    if held:
        msg = "a legal hold applies to this customer: the deletion request was refused"
        raise Conflict(
            msg, reason="legal_hold", extensions={"current_status": Status.REFUSED.value}
        )
    erasure_seq: int | None = None
    try:
        erasure_seq = (await erase_customer(call, row.customer_id)).governance.get("audit_id")  # type: ignore[assignment]
    except Gone:
        call.audit.seq = None  # erased before (a retry): complete the rest
    related = {}
    tables = store_tables()
    async with call.state.db.writer.begin() as conn:
        current = await records.load(conn, call, row.id)
        for entity in ("interactions", "orders"):
            table = tables[entity]
            gone = await conn.execute(delete(table).where(table.c.customer_id == row.customer_id))
            related[f"{entity}_deleted"] = gone.rowcount
        result = {"erasure_audit_id": erasure_seq, **related}
        write_entry = erasure_seq is None
        await records.transition(
            conn,
            call,
            current,
            Action.FULFIL,
            values={"failure": None, "result": result},
            detail=result,
            audit_status=200 if write_entry else None,
        )
        call.audit.record_ids = (row.id, row.customer_id)


class PackageUnavailable(Gone):
    reason = "package_expired"


async def download(call: GovernedCall, dsr_id: str, fmt: str | None) -> tuple[bytes, str]:
    """The package as JSON or a Chinese HTML page; counted, limited, expiring, audited."""
    require_handle_right(call)
    call.audit.entity = ENTITY
    wanted = fmt or "json"
    if wanted not in ("json", "html"):
        msg = "format must be json or html"
        raise BadRequest(msg, reason="invalid_format", errors=(FieldProblem("format", "invalid"),))
    limit = call.state.settings.dsr_package_downloads
    protector = call.state.protector
    try:
        async with call.state.db.writer.begin() as conn:
            row = await records.load(conn, call, dsr_id)
            next_status(Status(row.status), Action.DOWNLOAD)
            if row.package is None:
                msg = "this request has no package (only access, portability and explanation do)"
                raise Conflict(msg, reason="no_package", extensions={"current_status": row.status})
            if dt.datetime.fromisoformat(row.package_expires_at) <= dt.datetime.now(dt.UTC):
                msg = "the package expired; file a new request"
                raise PackageUnavailable(msg)
            version = token_key_version(row.package)
            keys = await protector.keystore.keys_for([(row.customer_id, version)])
            key = keys.get((row.customer_id, version))
            if key is None:
                msg = "the customer was erased: the package was shredded with their data"
                raise Gone(msg, reason="erased")
            package = open_sealed(protector, key, row.id, row.package)
            counted = await conn.execute(
                update(dsr_requests)
                .where(dsr_requests.c.id == dsr_id, dsr_requests.c.package_downloads < limit)
                .values(package_downloads=dsr_requests.c.package_downloads + 1)
            )
            if counted.rowcount != 1:
                msg = f"the package was downloaded {limit} times already; file a new request"
                raise Gone(msg, reason="download_limit_reached")
            at = records.now_text()
            number = row.package_downloads + 1
            await records.add_event(
                conn,
                call,
                dsr_id,
                Action.DOWNLOAD,
                Status(row.status),
                Status(row.status),
                {"format": wanted, "download": number},
                at,
            )
            call.audit.fields = {"package": f"downloaded:{wanted}"}
            await append_in_transaction(conn, call.audit, 200)
    except SQLAlchemyError as exc:
        call.audit.seq = None
        msg = "the download could not be recorded; nothing was sent"
        raise AuditUnavailable(msg) from exc
    if wanted == "html":
        return render_html(package).encode(), "text/html; charset=utf-8"
    return orjson.dumps(package), "application/json"
