"""The import-linter contracts in pyproject.toml hold, and each of them can fail.

`lint-imports` runs on a copy of the packages in a temporary directory: untouched it
keeps every contract; with one forbidden import added it exits non-zero and names the
contract that import breaks. A contract that could never fail would show up here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "policies", "masking", "audit", "keys", "bench")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def copy_of_the_packages(destination: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            destination / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    shutil.copy2(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    # lint-imports puts its working directory first on sys.path, so the copy is what
    # it analyses, not the installed tree.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_folder_with_python_code_is_a_package() -> None:
    """import-linter analyses regular packages only: a folder without `__init__.py` (a
    namespace package) would drop out of the graph, and every contract with it."""
    folders = {
        path.parent
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    missing = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists())
    assert missing == []


def test_only_the_application_shell_sits_at_gateway_root() -> None:
    """DESIGN.md: each domain has its own folder under `gateway/`; only the app, its
    settings, its state and logging stay at the root."""
    loose = sorted(path.name for path in (ROOT / "gateway").glob("*.py"))
    assert loose == ["__init__.py", "app.py", "logging.py", "settings.py", "state.py"]


def test_given_untouched_packages_then_every_contract_is_kept(tmp_path: Path) -> None:
    result = lint_imports(copy_of_the_packages(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden_import", "contract"),
    [
        ("keys/__init__.py", "import gateway", "keys imports no other Wardgate package"),
        ("keys/__init__.py", "import policies", "keys imports no other Wardgate package"),
        ("masking/__init__.py", "import gateway.settings", "core packages never import gateway"),
        ("audit/__init__.py", "import masking", "audit does not import masking"),
        ("policies/__init__.py", "import cryptography", "only keys imports cryptography"),
        (
            "gateway/ops/__init__.py",
            "import gateway.customers.controllers",
            "domain controllers are imported only by gateway.app",
        ),
        ("gateway/db/__init__.py", "import gateway.cli.main", "only the CLI imports gateway.cli"),
        ("gateway/settings.py", "import bench", "bench above gateway above the core packages"),
        (
            "masking/detection/_detector.py",
            "import presidio_analyzer",
            "only the presidio adapters import presidio",
        ),
        (
            "gateway/pii/detector.py",
            "import presidio_anonymizer",
            "only the presidio adapters import presidio",
        ),
    ],
)
def test_given_one_forbidden_import_then_lint_imports_fails_naming_the_contract(
    tmp_path: Path, module: str, forbidden_import: str, contract: str
) -> None:
    copy = copy_of_the_packages(tmp_path)
    with (copy / module).open("a", encoding="utf-8") as source:
        source.write(f"\n{forbidden_import}  # noqa: F401\n")

    result = lint_imports(copy)

    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout
