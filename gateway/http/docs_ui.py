"""The interactive API documentation at `/schema`, served offline.

Swagger UI comes from files vendored into the package (`static/swagger-ui/`, see its
`VENDORED.md`) and served at `/schema/assets/`; the page loads the document from
`/schema/openapi.json`. Nothing is fetched from another host, so the docs work on a
machine without internet access.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.enums import MediaType
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.response import Redirect
from litestar.router import Router
from litestar.static_files import create_static_files_router

SWAGGER_UI_VERSION = "5.35.0"
ASSETS_PATH = "/schema/assets"
SWAGGER_DIR = Path(str(resources.files("gateway.http") / "static" / "swagger-ui"))


class OfflineSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI from the vendored assets; the default page of `/schema`."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        options = {
            "url": self.get_openapi_json_route(request),
            "dom_id": "#swagger-ui",
            "deepLinking": True,
            # No badge from the online validator: it would call another host.
            "validatorUrl": None,
            "tryItOutEnabled": False,
            "persistAuthorization": False,
        }
        page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<style>body {{ margin: 0; }}</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle(Object.assign({json.dumps(options)},
  {{presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"}}));
</script>
</body>
</html>
"""
        return page.encode()


def assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[SWAGGER_DIR],
        include_in_schema=False,
        name="docs_assets",
    )


@get("/", include_in_schema=False, media_type=MediaType.TEXT, sync_to_thread=False)
def root() -> Redirect:
    """`/` is not an API path: it sends a browser to the documentation."""
    return Redirect(path="/schema")
