"""The page every applied policy change ends on: the new version, its author, its
comment and its diff (the same diff the API returns and the audit entry carries)."""

from __future__ import annotations

from collections.abc import Mapping

from litestar.response import Template

from gateway.console.rendering import page
from gateway.console.viewer import Viewer


def diff_line_kind(line: str) -> str:
    """added, removed or changed: how a line of `PolicyDiff.lines()` is highlighted."""
    return {"+": "added", "-": "removed", "~": "changed"}.get(line[:1], "changed")


def change_applied(
    viewer: Viewer, result: Mapping[str, object], *, current_path: str, what: str
) -> Template:
    lines = result.get("text")
    text = [str(line) for line in lines] if isinstance(lines, list) else []
    return page(
        "admin/change_applied.html",
        viewer,
        result=result,
        lines=[(diff_line_kind(line), line) for line in text],
        what=what,
        current_path=current_path,
    )
