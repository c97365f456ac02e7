"""A customer's consent history: purposes, scopes (separate consents), grants,
withdrawals, expiry and whether a guardian consented. Never evidence hashes, guardian
references or any field value: the consents use case is asked without evidence, and
its audit entry says so (`evidence: withheld`)."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from gateway.consents import service as consents
from gateway.console.filters import AnyRequest, present, query_of
from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer, require

ACTION = "consents.read"


@get("/consents", include_in_schema=False, opt=audited(ACTION))
async def consent_history(viewer: NamedDependency[Viewer], request: AnyRequest) -> Template:
    require(viewer, compliance=True)
    filters = present(query_of(request), ("customer_id",))
    history = None
    if customer_id := filters.get("customer_id"):
        result = await consents.list_consents(
            viewer.call(ACTION, "consents"), customer_id, with_evidence=False
        )
        history = result.data
    return page(
        "consent_history.html",
        viewer,
        filters=filters,
        history=history,
        current_path="/console/consents",
    )
