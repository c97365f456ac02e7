"""One audit entry with every field as stored, and its inclusion proof checked against
the latest signed checkpoint (an `audit.events.read`, as in the API)."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from gateway.compliance import reads as audit_reads
from gateway.compliance.entry_proof import prove_entry
from gateway.compliance.export import CSV_COLUMNS
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer, require

FIELD_ORDER = CSV_COLUMNS
"""Every field of an entry, in the order the CSV export lists them, then its leaf hash."""


@get("/audit/{seq:int}", include_in_schema=False, opt=audited("audit.events.read"))
async def audit_entry(viewer: NamedDependency[Viewer], seq: FromPath[int]) -> Template:
    require(viewer, compliance=True)
    result = await audit_reads.get_event(viewer.call("audit.events.read"), seq)
    entry = result.data if isinstance(result.data, dict) else {}
    proof = await prove_entry(viewer.state, seq)
    fields = [(name, entry.get(name)) for name in FIELD_ORDER if name in entry]
    return page(
        "audit_entry.html",
        viewer,
        seq=seq,
        entry=entry,
        fields=fields,
        proof=proof,
        current_path="/console/audit",
    )
