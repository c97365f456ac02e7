"""Compliance API: parse, delegate to the audit reads pipeline, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Stream

from gateway.compliance import reads as audit_reads
from gateway.compliance.export import MEDIA_TYPES, ExportFormat
from gateway.governance.call import GovernedCall
from gateway.http.dependencies import GovernedCallDependency
from gateway.http.operations import operation
from gateway.http.query import Cursor, Limit, query

Json = dict[str, object]

_RIGHT = {403: ("audit_not_allowed",)}
_EVENTS = {**_RIGHT, 400: ("invalid_limit", "invalid_cursor", "invalid_time", "invalid_order")}


def provide_auditor(call: GovernedCallDependency) -> GovernedCall:
    """Who is calling, decided before any parameter is looked at: a caller without the
    audit right gets 403 whatever it sent."""
    audit_reads.require_audit_right(call)
    return call


def _filter(what: str) -> Any:
    return query(f"Only entries whose {what} equals this value.")


def _time(what: str) -> Any:
    return query(
        f"{what} (ISO 8601 with a timezone, e.g. `2025-01-31T08:00:00+08:00`).",
        format="date-time",
    )


def _seq(what: str) -> Any:
    return query(what, required=True, type="integer", minimum=0, maximum=audit_reads.MAX_SEQ)


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["audit"]  # noqa: RUF012 - Litestar declares it as a plain attribute
    dependencies = {"auditor": Provide(provide_auditor, sync_to_thread=False)}  # noqa: RUF012

    @get(
        "/events",
        summary="Audit entries, filtered, in cursor pages",
        opt=operation("audit.events.list", "audit_events", problems=_EVENTS),
    )
    async def list_events(
        self,
        auditor: GovernedCallDependency,
        limit: Limit = None,
        cursor: Cursor = None,
        customer_id: Annotated[
            str | None, query("Only entries about this customer (a data subject of the entry).")
        ] = None,
        principal: Annotated[str | None, _filter("principal")] = None,
        purpose: Annotated[str | None, _filter("declared purpose")] = None,
        action: Annotated[str | None, _filter("action (e.g. `customers.read`)")] = None,
        outcome: Annotated[
            str | None, _filter("outcome (`allowed`, `denied`, `invalid` or `failed`)")
        ] = None,
        reason: Annotated[str | None, _filter("reason word (e.g. `no_consent`)")] = None,
        since: Annotated[str | None, _time("Entries at or after this time")] = None,
        until: Annotated[str | None, _time("Entries before this time")] = None,
        order: Annotated[
            str | None,
            query(
                "`asc` (oldest first, the default) or `desc` (newest first).", enum=["asc", "desc"]
            ),
        ] = None,
    ) -> Json:
        params = {
            name: value
            for name, value in {
                "limit": limit,
                "cursor": cursor,
                "order": order,
                "customer_id": customer_id,
                "principal": principal,
                "purpose": purpose,
                "action": action,
                "outcome": outcome,
                "reason": reason,
                "since": since,
                "until": until,
            }.items()
            if value is not None
        }
        return (await audit_reads.list_events(auditor, params)).to_json()

    @get(
        "/events/{seq:int}",
        summary="One audit entry",
        opt=operation(
            "audit.events.read", "audit_events", problems={**_RIGHT, 404: ("not_found",)}
        ),
    )
    async def get_event(self, auditor: GovernedCallDependency, seq: FromPath[int]) -> Json:
        return (await audit_reads.get_event(auditor, seq)).to_json()

    @get(
        "/verify",
        summary="Recompute the log and check it against the signed checkpoints",
        opt=operation("audit.verify", "audit_events", problems=_RIGHT),
    )
    async def verify(self, auditor: GovernedCallDependency) -> Json:
        return (await audit_reads.verify(auditor)).to_json()

    @get(
        "/checkpoints/latest",
        summary="The latest signed checkpoint and the verifier key",
        opt=operation("audit.checkpoint", "audit_events", problems=_RIGHT),
    )
    async def latest_checkpoint(
        self,
        auditor: GovernedCallDependency,
        refresh: Annotated[
            str | None,
            query(
                "`true`, `1` or `yes` (any case) to sign a checkpoint over the log as it is "
                "now; any other value reads the latest stored one.",
                examples=["true"],
            ),
        ] = None,
    ) -> Json:
        wanted = (refresh or "").lower() in ("1", "true", "yes")
        return await audit_reads.latest_checkpoint(auditor, refresh=wanted)

    @get(
        "/proofs/inclusion",
        summary="RFC 6962 inclusion proof of an entry",
        opt=operation(
            "audit.proof.inclusion",
            "audit_events",
            problems={**_RIGHT, 400: ("invalid_seq", "invalid_tree_size", "invalid_proof_range")},
        ),
    )
    async def inclusion(
        self,
        auditor: GovernedCallDependency,
        seq: Annotated[str | None, _seq("The entry's sequence number.")] = None,
        tree_size: Annotated[
            str | None, _seq("The size of the tree the proof is for (> seq).")
        ] = None,
    ) -> Json:
        return await audit_reads.inclusion_proof(
            auditor,
            audit_reads.parse_seq(seq, "seq"),
            audit_reads.parse_seq(tree_size, "tree_size"),
        )

    @get(
        "/proofs/consistency",
        summary="RFC 6962 consistency proof between two tree sizes",
        opt=operation(
            "audit.proof.consistency",
            "audit_events",
            problems={**_RIGHT, 400: ("invalid_first", "invalid_second", "invalid_proof_range")},
        ),
    )
    async def consistency(
        self,
        auditor: GovernedCallDependency,
        first: Annotated[str | None, _seq("The earlier tree size (> 0).")] = None,
        second: Annotated[str | None, _seq("The later tree size.")] = None,
    ) -> Json:
        return await audit_reads.consistency_proof(
            auditor,
            audit_reads.parse_seq(first, "first"),
            audit_reads.parse_seq(second, "second"),
        )

    @get(
        "/export",
        summary="The whole log, streamed as JSON Lines or CSV",
        opt=operation(
            "audit.export",
            "audit_events",
            problems={**_RIGHT, 400: ("invalid_format",)},
            success_media_types=tuple(MEDIA_TYPES.values()),
        ),
    )
    async def export(
        self,
        auditor: GovernedCallDependency,
        format: Annotated[
            str | None,
            query(
                "`jsonl` (JSON Lines, the default) or `csv` (one column per entry field).",
                enum=[f.value for f in ExportFormat],
                default=ExportFormat.JSONL.value,
            ),
        ] = None,
    ) -> Response[Any]:
        fmt, lines = await audit_reads.export(auditor, format)
        # A browser saves it as a file named for what it is, not as "export".
        disposition = f'attachment; filename="wardgate-audit.{fmt.value}"'
        return Stream(
            lines, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition}
        )


@get(
    "/v1/customers/{customer_id:str}/access-report",
    summary="Who accessed this person's data",
    tags=["audit"],
    opt=operation("customers.access_report", "customers", problems={**_RIGHT, 404: ("not_found",)}),
)
async def access_report(call: GovernedCallDependency, customer_id: FromPath[str]) -> Json:
    return (await audit_reads.access_report(call, customer_id)).to_json()
