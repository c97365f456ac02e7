"""Pages from templates: one Jinja2 environment, autoescaping everything.

Every page gets the translator of its language, the viewer (when signed in), the CSRF
token for its forms and the time formatter of the viewer's zone. Templates never mark
anything safe: whatever a principal id, a comment or a rule holds is shown as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from gateway.console.dates import local_time
from gateway.console.i18n import LANGUAGES, Translator
from gateway.console.navigation import screens_for
from gateway.console.viewer import Viewer

TEMPLATES = Path(__file__).parent / "templates"
CJK_FONT_STACK = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC"'


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))


def page(
    name: str,
    viewer: Viewer | None,
    *,
    language: str | None = None,
    status: int = 200,
    csrf_token: str | None = None,
    **context: Any,
) -> Template:
    """The page `name` for `viewer` (or an anonymous visitor in `language`)."""
    lang = viewer.session.language if viewer is not None else (language or LANGUAGES[0])
    zone = viewer.session.time_zone if viewer is not None else "UTC"
    t = Translator(lang)

    def when(value: object) -> str:
        return local_time(value, zone)

    values: Mapping[str, Any] = {
        "t": t,
        "lang": t.language,
        "languages": LANGUAGES,
        "viewer": viewer,
        "csrf_token": csrf_token or (viewer.csrf_token if viewer is not None else ""),
        "when": when,
        "zone": zone,
        "screens": screens_for(viewer.access) if viewer is not None else (),
        "current_path": context.pop("current_path", "/console"),
        **context,
    }
    return Template(template_name=name, context=dict(values), status_code=status)
