"""Measuring how soon a change made through one gateway process is in force on another
(issue 7: within a second), for the two-process and listener tests.

A measurement runs from the moment the change is committed — the response to the change
request, or the commit itself in process — to the first answer that shows the change,
polled every 20 ms. The 1 s bound is a real wall-clock assertion, and CI runs on one
shared 2-core machine where another job can hold both cores for a second: a measurement
over the bound is repeated with a fresh change, up to `ATTEMPTS` times, and passes if
any attempt is within it. Every attempt's figure is printed and named in the failure
message, so a slow reload cannot hide behind the retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

DEADLINE = 1.0  # seconds: issue 7's bound for a change to reach every process
ATTEMPTS = 3
POLL_SECONDS = 0.02
POLL_TIMEOUT = 0.5  # seconds: a poll stuck behind a busy process is asked again, not waited out
GIVE_UP = 15.0  # seconds: past this the change never arrived (a bug, not a slow machine)

T = TypeVar("T")


def within_deadline(what: str, attempt: Callable[[int], float]) -> list[float]:
    """Run `attempt(n)` — make a change, return the seconds until it was seen — until one
    is within `DEADLINE`, at most `ATTEMPTS` times; every figure, in seconds."""
    figures: list[float] = []
    for n in range(ATTEMPTS):
        figures.append(attempt(n))
        if figures[-1] < DEADLINE:
            break
    summary = ", ".join(f"{figure:.3f}" for figure in figures)
    print(f"{what}: {summary} s")  # shown by `pytest -rP`: the figures behind a pass
    assert figures[-1] < DEADLINE, (
        f"{what}: over {DEADLINE} s in all {ATTEMPTS} attempts ({summary} s)"
    )
    return figures


def first_seen(probe: Callable[[], T | None], since: float, what: str) -> tuple[float, T]:
    """Call `probe` every `POLL_SECONDS` until it returns something; the seconds from
    `since` to that answer, and the answer."""
    give_up = time.monotonic() + GIVE_UP
    while True:
        seen = probe()
        now = time.monotonic()
        if seen is not None:
            return now - since, seen
        assert now < give_up, f"{what}: not seen after {GIVE_UP} s"
        time.sleep(POLL_SECONDS)


def poll(client: httpx.Client, url: str, headers: dict[str, str]) -> httpx.Response | None:
    """One GET with a short timeout; None when it timed out (the next poll asks again)."""
    try:
        return client.get(url, headers=headers, timeout=POLL_TIMEOUT)
    except httpx.TimeoutException:
        return None


def answering(
    client: httpx.Client, url: str, headers: dict[str, str], status: int
) -> Callable[[], httpx.Response | None]:
    """A probe: the response once `url` answers `status`."""

    def probe() -> httpx.Response | None:
        response = poll(client, url, headers)
        return response if response is not None and response.status_code == status else None

    return probe


@dataclass
class RuleToggle:
    """One rule changed through a process's policy API, a new version each attempt: the
    first adds it, the second removes it again, the third adds it back."""

    client: httpx.Client
    base: str
    admin: dict[str, str]
    rule: dict[str, str]
    versions: list[int] = field(default_factory=list)
    _rule_id: str | None = None

    def apply(self, attempt: int) -> tuple[int, bool, float]:
        """Make the change; (its version, whether the rule is in it, time of the answer)."""
        adding = attempt % 2 == 0
        if adding:
            body = self.rule | {"comment": "reload test"}
            response = self.client.post(
                f"{self.base}/v1/policy/rules", json=body, headers=self.admin
            )
        else:
            url = f"{self.base}/v1/policy/rules/{self._rule_id}"
            response = self.client.delete(url, headers=self.admin)
        answered = time.monotonic()
        assert response.status_code == (201 if adding else 200), response.text
        change = response.json()
        if adding:
            self._rule_id = change["rule"]["id"]
        self.versions.append(change["version"])
        return change["version"], adding, answered


def api_issuer(
    client: httpx.Client, a: str, admin: dict[str, str], principal: str
) -> Callable[[], dict[str, str]]:
    """Issues keys of `principal` through A's policy API (principals without customer
    data or audit access only: separation of duties)."""

    def issue() -> dict[str, str]:
        response = client.post(f"{a}/v1/policy/principals/{principal}/keys", headers=admin)
        assert response.status_code == 201, response.text
        return {"key": response.json()["key"], "key_id": response.json()["key_id"]}

    return issue


def key_travels(
    client: httpx.Client,
    a: str,
    admin: dict[str, str],
    url_on_b: str,
    purpose: str,
    issue_key: Callable[[], dict[str, str]],
) -> tuple[list[float], list[float]]:
    """A key issued by `issue_key` (committed when it returns) is accepted by B, and
    refused by B once revoked through A, each within the deadline; the figures of both."""
    issued: list[dict[str, str]] = []

    def headers(key: dict[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {key['key']}", "X-Purpose": purpose}

    def issue(_attempt: int) -> float:
        issued.append(issue_key())
        answered = time.monotonic()
        probe = answering(client, url_on_b, headers(issued[-1]), 200)
        return first_seen(probe, answered, "a new key accepted by B")[0]

    def revoke(attempt: int) -> float:
        if attempt > 0:  # the last key is revoked already: one more to revoke (not timed)
            issue(attempt)
        key = issued[-1]
        response = client.delete(f"{a}/v1/policy/keys/{key['key_id']}", headers=admin)
        answered = time.monotonic()
        assert response.status_code == 200, response.text
        probe = answering(client, url_on_b, headers(key), 401)
        return first_seen(probe, answered, "a key revoked on A, refused by B")[0]

    accepted = within_deadline("new API key accepted by B", issue)
    refused = within_deadline("API key revoked on A, refused by B", revoke)
    return accepted, refused
