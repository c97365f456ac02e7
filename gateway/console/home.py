"""The console's home page: who is signed in and the screens their rights open."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from gateway.console.rendering import page
from gateway.console.routing import audited
from gateway.console.viewer import Viewer


@get(["/", ""], include_in_schema=False, opt=audited("console.home"))
async def home(viewer: NamedDependency[Viewer]) -> Template:
    return page("home.html", viewer)
