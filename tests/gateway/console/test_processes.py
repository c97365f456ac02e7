"""Console sessions and the sign-in limit are shared by every gateway process: a session
opened on one process works on another, a sign-out on one ends it on all, and failed
sign-ins spread over processes count together."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.db.init_store import init_store
from gateway.settings import Settings
from tests.helpers.console import csrf_of
from tests.helpers.servers import serving
from tests.helpers.store import DEMO_CUSTOMERS


@pytest.fixture(scope="module")
def two_gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], dict]]:
    data_dir = tmp_path_factory.mktemp("console-processes")
    settings = Settings(data_dir=data_dir, log_json=True)
    asyncio.run(init_store(settings, demo=True, customers=DEMO_CUSTOMERS))
    keys = json.loads((data_dir / "demo-keys.json").read_text())
    with serving(settings, 2, Path(data_dir)) as bases:
        yield bases, keys


def sign_in(client: httpx.Client, base: str, key: str) -> httpx.Response:
    form = client.get(f"{base}/console/sign-in")
    return client.post(
        f"{base}/console/sign-in",
        data={"csrf_token": csrf_of(form.text), "api_key": key},
    )


def test_given_session_opened_on_one_process_then_another_serves_and_ends_it(
    two_gateways: tuple[list[str], dict],
) -> None:
    (first, second), keys = two_gateways
    with httpx.Client(timeout=30) as browser:
        assert sign_in(browser, first, keys["compliance-officer"]).status_code == 303
        # The cookie is scoped to the host (127.0.0.1), as a browser's would be.
        assert browser.get(f"{second}/console").status_code == 200

        page = browser.get(f"{second}/console/log")
        browser.post(f"{second}/console/sign-out", data={"csrf_token": csrf_of(page.text)})

        assert browser.get(f"{first}/console").status_code == 303


def test_given_failures_spread_over_processes_then_they_count_together(
    two_gateways: tuple[list[str], dict],
) -> None:
    (first, second), keys = two_gateways
    with httpx.Client(timeout=30) as browser:
        for n in range(5):
            base = first if n % 2 else second
            assert sign_in(browser, base, "wg_not-a-key").status_code == 401

        assert sign_in(browser, first, keys["compliance-officer"]).status_code == 429
        assert sign_in(browser, second, keys["compliance-officer"]).status_code == 429
