"""Browser-test fixtures: Playwright driving Debian's chromium, and one real gateway on
loopback over a demo store for each module's scenarios."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.helpers.browser import artifacts_dir, chromium_launch_args, demo_store
from tests.helpers.servers import Server, one_server


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's chromium through Playwright, for this module only: Playwright's sync API
    runs an event loop in the test thread while it is started, so it is stopped again
    before other modules' tests (which call `asyncio.run`) run in this process. (The
    session-wide fixtures of pytest-playwright would keep it running to the end.)"""
    launch = chromium_launch_args({})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page for each scenario."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 860},
        locale="en-US",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
    )
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`wardgate serve` on a fresh demo store, for this module's scenarios."""
    data_dir = tmp_path_factory.mktemp("console-browser")
    settings = demo_store(data_dir)
    with one_server(settings, data_dir / "server.log") as server:
        yield server


@pytest.fixture(scope="module")
def demo_keys(served: Server) -> dict[str, str]:
    data_dir = Path(served.log_path).parent
    keys: dict[str, str] = json.loads((data_dir / "demo-keys.json").read_text())
    return keys


@pytest.fixture
def shot(page: Page, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Save a full-page screenshot of the current page as a test artifact."""
    directory = artifacts_dir(tmp_path_factory.getbasetemp())

    def take(name: str) -> Path:
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
