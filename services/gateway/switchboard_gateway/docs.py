"""``/docs`` and ``/openapi.json``, behind the same keys as the rest (cookie or Bearer).

Swagger UI's script and style come from the ``fastapi-offline`` package, not a CDN,
so the page works on a machine with no internet access.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from switchboard_gateway.auth import require_browser_session
from switchboard_gateway.pages import render

router = APIRouter(dependencies=[Depends(require_browser_session)], include_in_schema=False)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# name → (package, media type)
ASSETS = {
    "swagger-ui-bundle.js": ("fastapi_offline", "text/javascript"),
    "swagger-ui.css": ("fastapi_offline", "text/css"),
    "docs.js": ("switchboard_gateway", "text/javascript"),
}
_CACHE = {"Cache-Control": "private, max-age=3600"}


@functools.cache
def asset(name: str) -> bytes:
    package, _media = ASSETS[name]
    return importlib.resources.files(package).joinpath("static", name).read_bytes()


@router.get("/openapi.json")
async def openapi(request: Request) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = str(request.scope.get("root_path", ""))
    page = render("docs.html.jinja", title=f"{request.app.title} API", root=root)
    return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


@router.get("/docs/{name}")
async def swagger_asset(name: str) -> Response:
    if name not in ASSETS:
        return Response(status_code=404)
    return Response(asset(name), media_type=ASSETS[name][1], headers=_CACHE)
