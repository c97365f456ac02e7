"""Logging set-ups: the served gateway's (cached loggers, orjson JSON lines as bytes) and
the uncached one tests and the CLI use, under which capture_logs sees every event."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from gateway.logging import configure_logging

# Runs in a child process: a cached logger would keep the served configuration for the
# rest of a test session, and capture_logs in later tests would see nothing.
SERVED = """
import logging, sys
from pathlib import Path
import structlog
from gateway.app import create_app
from gateway.settings import Settings

create_app(Settings(data_dir=Path(sys.argv[1]), log_level="info"))
log = structlog.get_logger("wardgate.test")
log.info("first", reason="未授权", count=1)
# A cached logger keeps the filter it was first used with; an uncached one would now
# drop INFO and print nothing.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
log.info("second")
logging.getLogger("asyncpg").warning("connection lost")
sys.exit(0 if structlog.get_config()["cache_logger_on_first_use"] is True else 3)
"""


def test_given_served_app_then_loggers_are_cached_and_lines_are_orjson(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SERVED, str(tmp_path / "data")],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()  # 3: loggers not cached
    lines = result.stdout.decode("utf-8").splitlines()
    first, second, foreign = (json.loads(line) for line in lines)
    assert first["event"] == "first"
    assert first["reason"] == "未授权"
    assert first["count"] == 1
    assert first["level"] == "info"
    assert first["timestamp"].endswith("Z")
    # orjson's compact form with UTF-8 as is (json.dumps would write ": " and \\u escapes).
    assert '"reason":"未授权"' in lines[0]
    assert second["event"] == "second"  # the cached logger ignored the new filter
    assert foreign["event"] == "connection lost"
    assert foreign["logger"] == "asyncpg"
    assert foreign["level"] == "warning"


@pytest.mark.usefixtures("logging_restored")
def test_given_test_configuration_then_loggers_are_not_cached_and_capture_sees_events() -> None:
    configure_logging("info")
    assert structlog.get_config()["cache_logger_on_first_use"] is False
    log = structlog.get_logger("wardgate.test")
    log.info("before capture")  # a first use that a cached logger would be bound to
    with capture_logs() as captured:
        log.info("during capture", reason="no_consent")
    assert captured == [{"event": "during capture", "reason": "no_consent", "log_level": "info"}]
