"""Differential privacy for an aggregate table, with OpenDP's vetted mechanisms.

Released noisy are the vectors over the innermost cells of a fixed domain (every
combination of dimension values, present or not): the people per cell, the records per
cell (related entities only), and the clamped sum of each measured field. One person
contributes at most `per_person` records, so the L1 sensitivity of a count vector is
`per_person` and of a sum vector `per_person × max(|min|, |max|)`. Counts get discrete
Laplace noise (integers), sums continuous Laplace; the ε of the answer is split equally
over the vectors, and what is debited is what OpenDP's privacy map says each costs.

Everything after the noise is post-processing and spends nothing: negative counts are
raised to zero, totals are sums of noisy cells, means are noisy sum over noisy count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

from gateway.aggregates.suppression import Key

if TYPE_CHECKING:
    import opendp.prelude as dp

MECHANISM = "laplace"
"""Discrete Laplace (geometric) on counts, Laplace on sums."""


@dataclass(frozen=True, slots=True)
class NoisePlan:
    """How one answer is privatized: the scale of each vector and the ε it costs."""

    count_scale: float
    sum_scales: dict[str, float]
    epsilon: float
    """The sum of OpenDP's privacy maps over the released vectors."""


@cache
def _opendp() -> ModuleType:
    """OpenDP, loaded at the first noisy answer: half a second of import that the server's
    start-up (and every read that is not a noisy aggregate) need not pay."""
    import opendp.prelude

    opendp.prelude.enable_features("contrib")
    return opendp.prelude


def _count_measurement(cells: int, scale: float) -> dp.Measurement:
    lib = _opendp()
    space = lib.vector_domain(lib.atom_domain(T=int), size=cells), lib.l1_distance(T=int)
    measurement: dp.Measurement = lib.m.make_laplace(*space, scale=scale)
    return measurement


def _sum_measurement(cells: int, scale: float) -> dp.Measurement:
    lib = _opendp()
    space = (
        lib.vector_domain(lib.atom_domain(T=float, nan=False), size=cells),
        lib.l1_distance(T=float),
    )
    measurement: dp.Measurement = lib.m.make_laplace(*space, scale=scale)
    return measurement


def plan_noise(
    epsilon: float,
    *,
    cells: int,
    count_vectors: int,
    sum_bounds: dict[str, float],
    per_person: int,
) -> NoisePlan:
    """Scales for `count_vectors` count vectors and one sum vector per measured field
    (`sum_bounds`: the largest absolute value of each), spending at most `epsilon`."""
    share = epsilon / (count_vectors + len(sum_bounds))
    # A hair of slack so that float rounding in the map never exceeds the share.
    count_scale = per_person / share * (1 + 1e-9)
    spent = count_vectors * float(_count_measurement(cells, count_scale).map(per_person))  # type: ignore[no-untyped-call]
    sum_scales: dict[str, float] = {}
    for name, bound in sum_bounds.items():
        sensitivity = per_person * bound
        scale = sensitivity / share * (1 + 1e-9)
        sum_scales[name] = scale
        spent += float(_sum_measurement(cells, scale).map(sensitivity))  # type: ignore[no-untyped-call]
    return NoisePlan(count_scale=count_scale, sum_scales=sum_scales, epsilon=spent)


def noisy_counts(values: Sequence[int], scale: float) -> list[int]:
    """Discrete Laplace noise; post-processed to no negative count."""
    noisy = _count_measurement(len(values), scale)(list(values))
    return [max(0, int(v)) for v in noisy]


def noisy_sums(values: Sequence[float], scale: float) -> list[float]:
    noisy = _sum_measurement(len(values), scale)([float(v) for v in values])
    return [float(v) if math.isfinite(v) else 0.0 for v in noisy]


def cell_keys(domains: Sequence[Sequence[str]]) -> list[Key]:
    """Every innermost cell of the fixed domain, in order."""
    keys: list[Key] = [()]
    for values in domains:
        keys = [(*key, value) for key in keys for value in values]
    return keys
