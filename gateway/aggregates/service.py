"""`POST /v1/aggregates`, end to end: rights, query, records, exact or noisy figures,
minimum cohort with complementary suppression, differencing or budget, audit.

Exact (differential privacy off): cohorts are counted, positions under k and their
complements hidden, and the differencing rule checked against the principal's earlier
answers before anything is released. Noisy (on): the ε of the answer is debited from
the principal's budget first (429 `privacy_budget_exhausted` when it does not fit),
then noise is added and everything after it (no negative counts, totals, suppression
on the noisy counts, means) is post-processing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gateway.aggregates import budget, differencing, noise
from gateway.aggregates.dimensions import DIMENSIONS
from gateway.aggregates.query import CheckedQuery, check_query, parse_query
from gateway.aggregates.release import Figures, render
from gateway.aggregates.rights import RIGHT, aggregatable_fields
from gateway.aggregates.schemas import Source
from gateway.aggregates.source import Record, load_records
from gateway.aggregates.suppression import TOTAL, Key, Table, positions, suppress
from gateway.aggregates.tabulate import Stats, position_keys, tabulate
from gateway.compliance.entries import append_now
from gateway.governance.call import GovernedCall
from gateway.http.errors import FieldProblem, Forbidden, TooManyRequests, Unprocessable
from gateway.http.json_body import RequestBody
from policies.purposes import DifferentialPrivacy

PER_PERSON = 10
"""With differential privacy: records of one person counted in an orders or
interactions aggregate (the first ten, by id); bounds what one person can change."""


def _audit_shape(call: GovernedCall, checked: CheckedQuery) -> None:
    query = checked.query
    call.audit.entity = query.entity.value
    call.audit.fields = {
        "aggregate:measures": ",".join(
            m.op.value if m.field is None else f"{m.op.value}({m.field})" for m in query.measures
        ),
        "aggregate:group_by": ",".join(d.value for d in query.group_by),
        "aggregate:filters": ",".join(sorted(d.value for d in checked.filters)),
    }


def _audit_result(
    call: GovernedCall, released: int, hidden: int, mechanism: str, eps: float
) -> None:
    call.audit.fields |= {
        "aggregate:cells": str(released),
        "aggregate:suppressed": str(hidden),
        "aggregate:mechanism": mechanism,
        "aggregate:epsilon": f"{eps:.6g}",
    }


def _exact_figures(table: dict[Key, Stats], source: Source) -> dict[Key, Figures]:
    return {
        key: Figures(
            count=len(stats.people) if source is Source.CUSTOMERS else stats.records,
            sums=stats.sums,
            counts={name: float(n) for name, n in stats.counts.items()},
        )
        for key, stats in table.items()
    }


def _predicate(checked: CheckedQuery, key: Key) -> differencing.Predicate:
    predicate = {dim.value: values for dim, values in checked.filters.items()}
    for dim, value in zip(checked.query.group_by, key, strict=True):
        if value != TOTAL:
            predicate[dim.value] = frozenset({value})
    return predicate


async def _exact(
    call: GovernedCall, checked: CheckedQuery, records: Sequence[Record], now: dt.datetime
) -> tuple[dict[str, list[dict[str, object]]], int, int]:
    query = checked.query
    table, seen = tabulate(records, query.group_by, checked.filters)
    keys = positions(seen)
    cohorts = {key: len(stats.people) for key, stats in table.items()}
    k = call.purpose.min_cohort
    hidden = suppress(Table(len(query.group_by), cohorts), k, keys)
    released = [
        (_predicate(checked, key), cohorts.get(key, 0))
        for key in keys
        if key not in hidden and cohorts.get(key, 0) > 0
    ]
    db = call.state.db
    earlier = await differencing.history(
        db.reader, call.principal.id, call.purpose.id, query.entity.value, now
    )
    if differencing.risky(released, earlier, records, k):
        msg = (
            f"this answer would differ from an earlier answer of yours by fewer than {k} "
            "people; ask for a coarser breakdown"
        )
        raise Forbidden(msg, reason="differencing_risk")
    await differencing.remember(
        db.writer,
        principal=call.principal.id,
        purpose=call.purpose.id,
        entity=query.entity.value,
        released=released,
        now=now,
    )
    data = render(query.group_by, query.measures, keys, _exact_figures(table, query.entity), hidden)
    return data, len(released), len(hidden)


def _epsilon(checked: CheckedQuery, settings: DifferentialPrivacy) -> float:
    asked = checked.query.epsilon
    if asked is None:
        return settings.epsilon_per_query
    if asked > settings.epsilon_per_query:
        msg = f"epsilon may be at most {settings.epsilon_per_query} for this purpose"
        raise Unprocessable(
            msg, reason="epsilon_too_large", errors=(FieldProblem("epsilon", "epsilon_too_large"),)
        )
    return asked


async def _noisy(
    call: GovernedCall,
    checked: CheckedQuery,
    records: Sequence[Record],
    settings: DifferentialPrivacy,
    now: dt.datetime,
) -> tuple[dict[str, list[dict[str, object]]], int, int, budget.Debit]:
    query = checked.query
    today = now.date()
    domains = [
        sorted(checked.filters[d]) if d in checked.filters else list(DIMENSIONS[d].domain(today))
        for d in query.group_by
    ]
    per_person = 1 if query.entity is Source.CUSTOMERS else PER_PERSON
    table, _ = tabulate(records, query.group_by, checked.filters, per_person=per_person)
    cells = noise.cell_keys(domains)
    catalog = call.state.catalog.entity(query.entity.value)
    bounds = {}
    for name in checked.measured:
        spec = catalog.field(name).aggregate
        assert spec is not None  # noqa: S101 - checked with the query
        bounds[name] = max(abs(spec.low), abs(spec.high))
    related = query.entity is not Source.CUSTOMERS
    plan = noise.plan_noise(
        _epsilon(checked, settings),
        cells=len(cells),
        count_vectors=2 if related else 1,
        sum_bounds=bounds,
        per_person=per_person,
    )
    debit = await budget.debit(
        call.state.db.writer,
        principal=call.principal.id,
        purpose=call.purpose.id,
        settings=settings,
        epsilon=plan.epsilon,
        now=now,
    )
    if not debit.granted:
        renews = debit.period.renews_at.isoformat()
        msg = f"your privacy budget for purpose {call.purpose.id!r} is spent until {renews}"
        raise TooManyRequests(
            msg,
            reason="privacy_budget_exhausted",
            extensions={"renews_at": renews, "epsilon_left": f"{debit.left:.6g}"},
        )
    empty = Stats()
    stats = [table.get(key, empty) for key in cells]
    people = noise.noisy_counts([len(s.people) for s in stats], plan.count_scale)
    counted = (
        noise.noisy_counts([s.records for s in stats], plan.count_scale) if related else people
    )
    sums = {
        name: noise.noisy_sums([s.sums.get(name, 0.0) for s in stats], plan.sum_scales[name])
        for name in checked.measured
    }
    # Post-processing from here on: totals are sums of noisy cells.
    cohorts: dict[Key, int] = {}
    figures: dict[Key, list[float]] = {}
    width = 2 + len(checked.measured)
    for index, key in enumerate(cells):
        row = [people[index], counted[index], *(sums[name][index] for name in checked.measured)]
        for position in position_keys(key):
            acc = figures.setdefault(position, [0.0] * width)
            for j, value in enumerate(row):
                acc[j] += value
    for key, acc in figures.items():
        cohorts[key] = round(acc[0])
    keys = positions(domains)
    hidden = suppress(Table(len(query.group_by), cohorts), call.purpose.min_cohort, keys)
    released = {
        key: Figures(
            count=acc[1],
            sums={name: acc[2 + j] for j, name in enumerate(checked.measured)},
            counts={name: acc[1] for name in checked.measured},
        )
        for key, acc in figures.items()
    }
    data = render(query.group_by, query.measures, keys, released, hidden)
    shown = sum(1 for key in keys if key not in hidden and cohorts.get(key, 0) > 0)
    return data, shown, len(hidden), debit


async def aggregate(call: GovernedCall, body: RequestBody) -> dict[str, object]:
    if RIGHT not in call.plan.policy.api_rights:
        msg = f"your roles may not ask for aggregates for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="aggregate_not_allowed")
    allowed = aggregatable_fields(
        call.snapshot.engine, call.state.catalog, call.plan.policy.roles, call.purpose
    )
    now = dt.datetime.now(dt.UTC)
    checked = check_query(parse_query(body), call.state.catalog, allowed, now.date())
    _audit_shape(call, checked)
    query = checked.query
    wanted = set(query.group_by) | set(checked.filters)
    records = await load_records(call, query.entity, wanted, checked.measured)
    settings = call.purpose.differential_privacy
    governance: dict[str, object] = {
        "purpose": call.purpose.id,
        "policy_version": call.plan.version,
        "min_cohort": call.purpose.min_cohort,
    }
    if settings is None:
        data, shown, hidden = await _exact(call, checked, records, now)
        _audit_result(call, shown, hidden, "none", 0.0)
        governance |= {"mechanism": "none", "epsilon_spent": 0, "epsilon_left": None}
    else:
        data, shown, hidden, debit = await _noisy(call, checked, records, settings, now)
        spent = debit.amount_micro / budget.MICRO
        _audit_result(call, shown, hidden, noise.MECHANISM, spent)
        governance |= {
            "mechanism": noise.MECHANISM,
            "epsilon_spent": round(spent, 6),
            "epsilon_left": round(debit.left, 6),
            "budget_renews_at": debit.period.renews_at.isoformat(),
        }
    governance["suppressed"] = hidden
    governance["audit_id"] = await append_now(call.state.appender, call.audit, 200)
    return {"data": data, "governance": governance}
