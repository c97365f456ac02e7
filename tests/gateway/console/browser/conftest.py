"""Browser-test fixtures: pytest-playwright's browser, pointed at Debian's chromium, and
one real gateway on loopback over a demo store for this directory's tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.helpers.browser import artifacts_dir, chromium_launch_args, demo_store
from tests.helpers.servers import Server, one_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """No base URL: each scenario names its server. (pytest-base-url's own fixture is
    written in a style the pinned pytest warns about, and warnings are errors here.)"""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return chromium_launch_args(browser_type_launch_args)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 860},
        "locale": "en-US",
        "timezone_id": "Asia/Shanghai",
        "accept_downloads": True,
    }


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
