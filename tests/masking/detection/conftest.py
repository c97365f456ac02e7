"""One detector for the whole test session (it is immutable). Number builders and
finding helpers live in `tests/helpers/detection.py`."""

from __future__ import annotations

import pytest

from masking.detection import PiiDetector, build_detector


@pytest.fixture(scope="session")
def detector() -> PiiDetector:
    return build_detector()
