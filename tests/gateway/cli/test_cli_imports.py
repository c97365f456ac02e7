"""Commands that detect nothing do not load the PII detector's stack.

presidio, spaCy and jieba take seconds of CPU to import; `wardgate --help` and the key
commands must not pay for them (nor for the HTTP stack). Each case runs a fresh
interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.db.init_store import init_store
from gateway.settings import Settings

DETECTOR_STACK = ("presidio_analyzer", "presidio_anonymizer", "spacy", "jieba", "litestar")

_PROBE = """
import json, sys
from gateway.cli.main import main
sys.argv = ["wardgate", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
heavy = sorted(name for name in {names} if name in sys.modules)
print(json.dumps({{"heavy": heavy, "code": code}}), file=sys.stderr)
"""


def heavy_modules_loaded(*args: str) -> list[str]:
    probe = _PROBE.format(names=DETECTOR_STACK)
    result = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=False
    )
    outcome = json.loads(result.stderr.strip().splitlines()[-1])
    assert outcome["code"] == 0, result.stderr  # the command did its work
    loaded: list[str] = outcome["heavy"]
    return loaded


def test_given_help_then_detector_and_http_stack_not_imported() -> None:
    assert heavy_modules_loaded("--help") == []
    assert heavy_modules_loaded("dsr", "--help") == []


def test_given_keys_status_then_detector_and_http_stack_not_imported(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    asyncio.run(init_store(settings, demo=False))
    assert heavy_modules_loaded("keys", "status", "--data-dir", str(settings.data_dir)) == []


@pytest.mark.parametrize("command", [("scan", "--help"), ("policy", "apply", "--help")])
def test_given_help_of_a_detecting_command_then_still_light(command: tuple[str, ...]) -> None:
    """Their modules import the detector when they run, not when they are listed."""
    assert heavy_modules_loaded(*command) == []


def run_probe(probe: str) -> None:
    """Run `probe` in a fresh interpreter (imports are per process); it asserts itself."""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_given_the_app_imported_then_opendp_waits_for_the_first_noisy_answer() -> None:
    """OpenDP is half a second of `wardgate serve`'s start-up; only a differentially
    private aggregate needs it, and then it is loaded with its contrib features on."""
    probe = (
        "import sys, gateway.app\n"
        "assert 'opendp' not in sys.modules, 'opendp imported with the app'\n"
        "from gateway.aggregates.noise import noisy_counts\n"
        "assert len(noisy_counts([3, 4], 1.0)) == 2\n"
        "assert 'opendp' in sys.modules\n"
    )
    run_probe(probe)


def test_given_serve_start_up_then_store_checked_without_alembic(tmp_path: Path) -> None:
    """The schema check reads the version tables against the heads recorded in the
    build; alembic (a third of a second) is for `init` and `db upgrade` only."""
    settings = Settings(data_dir=tmp_path / "data")
    asyncio.run(init_store(settings, demo=False))
    probe = (
        "import asyncio, sys\nfrom pathlib import Path\n"
        "import gateway.app\n"
        "from gateway.cli.store import open_store\n"
        "from gateway.settings import Settings\n"
        "from gateway.state import PlanWarmUp, open_gateway\n"
        "async def start():\n"
        f"    settings = Settings(data_dir=Path({str(settings.data_dir)!r}))\n"
        "    await (await open_store(settings)).dispose()\n"
        "    state = await open_gateway(settings, warm=PlanWarmUp.NONE)\n"
        "    state.scanner.close()\n"
        "    await state.db.dispose()\n"
        "asyncio.run(start())\n"
        "assert 'alembic' not in sys.modules, 'alembic imported by the start-up checks'\n"
    )
    run_probe(probe)


PRESIDIO_STACK = ("presidio_analyzer", "presidio_anonymizer", "spacy")


def test_given_serving_path_then_presidio_and_spacy_never_imported(tmp_path: Path) -> None:
    """`wardgate serve`'s path (the app, the PII detector, masking, the gateway state)
    runs without presidio or spaCy (a second of start-up); the presidio adapters
    import them when asked, and then work on the same detector."""
    settings = Settings(data_dir=tmp_path / "data")
    asyncio.run(init_store(settings, demo=False))
    probe = (
        "import asyncio, sys\nfrom pathlib import Path\n"
        f"STACK = {PRESIDIO_STACK!r}\n"
        "def loaded():\n"
        "    return sorted(name for name in STACK if name in sys.modules)\n"
        "import gateway.app, masking, masking.detection\n"
        "from gateway.settings import Settings\n"
        "from gateway.state import PlanWarmUp, open_gateway\n"
        f"settings = Settings(data_dir=Path({str(settings.data_dir)!r}))\n"
        "app = gateway.app.create_app(settings)\n"
        "async def start():\n"
        "    state = await open_gateway(settings, warm=PlanWarmUp.NONE)\n"
        "    found = await state.scanner.detect(['客户王建国，手机13912345678'])\n"
        "    assert [e.entity_type for e in found[0]] == ['PERSON', 'CN_MOBILE'], found\n"
        "    state.scanner.close()\n"
        "    await state.db.dispose()\n"
        "    return state.scanner.detector\n"
        "detector = asyncio.run(start())\n"
        "assert masking.default_registry().bind('mobile')('13912345678') == '139****5678'\n"
        "assert loaded() == [], f'serving path imported {loaded()}'\n"
        "from masking.detection.presidio import build_analyzer_engine\n"
        "assert 'presidio_analyzer' in sys.modules and 'spacy' in sys.modules\n"
        "engine = build_analyzer_engine(detector)\n"
        "assert engine.analyze('手机13912345678', 'zh', entities=['CN_MOBILE'])\n"
        "masking.build_anonymizer_engine()\n"
        "assert loaded() == list(STACK), loaded()\n"
    )
    run_probe(probe)
