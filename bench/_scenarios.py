"""The scenarios: floor, bare and governed, single record and 100-record page, same rows."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from bench import _http
from gateway.ops.floor import floor_file

PAGE_SIZE = 100
Shape = Literal["single", "page"]
Tier = Literal["floor", "bare", "governed"]


@dataclass(frozen=True, slots=True)
class Scenario:
    shape: Shape
    governed: bool
    paths: tuple[str, ...]
    """Request targets, used round-robin, so the load spreads over many rows."""
    headers: Mapping[str, str] = field(default_factory=dict)
    floor: bool = False
    """The constant-body route: the server stack alone, no store (`gateway/ops/floor.py`)."""

    @property
    def tier(self) -> Tier:
        if self.floor:
            return "floor"
        return "governed" if self.governed else "bare"

    @property
    def name(self) -> str:
        return f"{self.tier} {self.shape}"


def _governed_pages(port: int, headers: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Walk the governed listing once: its page targets and each page's last id."""
    paths: list[str] = []
    last_ids: list[str] = []
    path = f"/v1/customers?limit={PAGE_SIZE}"
    while True:
        status, body = _http.get(port, path, headers)
        if status != 200:
            msg = f"GET {path} answered {status}: {body[:300]!r}"
            raise RuntimeError(msg)
        page = json.loads(body)
        if len(page["data"]) < PAGE_SIZE:
            return paths, last_ids  # a short last page would flatter both sides
        paths.append(path)
        last_ids.append(page["data"][-1]["id"])
        cursor = page.get("next_cursor")
        if not cursor:
            return paths, last_ids
        path = f"/v1/customers?limit={PAGE_SIZE}&cursor={quote(cursor)}"


def build(port: int, ids: list[str], api_key: str, seed: int = 7) -> list[Scenario]:
    """Bare and governed read the same rows in the same order, so only governance differs."""
    governed = {"Authorization": f"Bearer {api_key}", "X-Purpose": "customer_service"}
    shuffled = random.Random(seed).sample(ids, len(ids))
    page_paths, last_ids = _governed_pages(port, governed)
    if not page_paths:
        msg = f"the store has fewer than {PAGE_SIZE} readable customers"
        raise RuntimeError(msg)
    # Page k of the governed listing starts after page k-1's last id: the bare baseline
    # reads exactly those pages with its plain `after`.
    afters = ["", *last_ids[:-1]]
    return [
        Scenario("single", False, tuple(f"/bench/bare/customers/{i}" for i in shuffled)),
        Scenario("single", True, tuple(f"/v1/customers/{i}" for i in shuffled), governed),
        Scenario(
            "page",
            False,
            tuple(f"/bench/bare/customers?limit={PAGE_SIZE}&after={quote(a)}" for a in afters),
        ),
        Scenario("page", True, tuple(page_paths), governed),
    ]


def probe(port: int, scenario: Scenario) -> None:
    """One request before the load: the scenario must answer 200 with the expected rows."""
    status, body = _http.get(port, scenario.paths[0], scenario.headers)
    data = json.loads(body).get("data") if status == 200 else None
    single_ok = scenario.shape == "single" and isinstance(data, dict)
    page_ok = scenario.shape == "page" and isinstance(data, list) and len(data) == PAGE_SIZE
    if not (single_ok or page_ok):
        msg = f"{scenario.name}: GET {scenario.paths[0]} answered {status}: {body[:300]!r}"
        raise RuntimeError(msg)


def floors(port: int, governed: list[Scenario], data_dir: Path) -> list[Scenario]:
    """The floor of each shape: the governed scenario's first response, saved where the
    floor route reads it, answered as a constant body of the same size."""
    found = []
    for scenario in governed:
        status, body = _http.get(port, scenario.paths[0], scenario.headers)
        if status != 200:
            msg = f"{scenario.name}: GET {scenario.paths[0]} answered {status}: {body[:300]!r}"
            raise RuntimeError(msg)
        floor_file(data_dir, scenario.shape).write_bytes(body)
        found.append(
            Scenario(scenario.shape, False, (f"/bench/floor/{scenario.shape}",), floor=True)
        )
    return found
