"""The browser softphone: ``GET /softphone`` (the page and its two scripts) and the
``/softphone/ws`` WebSocket that bridges it to the dialer (see
:mod:`switchboard_gateway.softphone_protocol`).

The page needs a browser session, like the report pages (``?key=`` once sets the
cookie); the WebSocket checks the same cookie, ``?key=`` or a Bearer key.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging

from fastapi import APIRouter, Depends, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, Response

from switchboard.config import Settings
from switchboard_gateway import softphone_protocol as proto
from switchboard_gateway.auth import ApiKeys, require_browser_session, websocket_refusal
from switchboard_gateway.pages import render
from switchboard_gateway.params import known_query_only
from switchboard_gateway.phone_link import PhoneExchange
from switchboard_gateway.problems import error_responses
from switchboard_gateway.softphone_bridge import SoftphoneBridge

log = logging.getLogger(__name__)

SCRIPTS = ("softphone.js", "softphone-worklet.js")
# Everything comes from the gateway; inline styles are the base template's.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_NO_STORE = {"Cache-Control": "no-store"}

pages = APIRouter(
    tags=["softphone"],
    dependencies=[Depends(require_browser_session), Depends(known_query_only)],
    responses=error_responses(422, 429, html=True),
)
sockets = APIRouter()


@functools.cache
def script(name: str) -> bytes:
    return importlib.resources.files("switchboard_gateway").joinpath("static", name).read_bytes()


@pages.get("/softphone", summary="The browser softphone (HTML)", response_class=HTMLResponse)
async def softphone_page(
    request: Request,
    # Read by the page's script, declared here so the API documents (and accepts) them.
    number: str | None = Query(None, description="E.164; another number to register"),
    autoanswer: str | None = Query(None, description="1: answer incoming calls at once"),
) -> HTMLResponse:
    """A phone in the browser: ``POST /call`` to its number rings it.

    ``?number=`` registers another number than ``gateway.softphone_number``;
    ``?autoanswer=1`` answers incoming calls at once.
    """
    root = str(request.scope.get("root_path", ""))
    html = render("softphone.html.jinja", root=root)
    return HTMLResponse(
        html, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, **_NO_STORE}
    )


@pages.get("/softphone/{name}", include_in_schema=False)
async def softphone_script(name: str) -> Response:
    if name not in SCRIPTS:
        return Response(status_code=404)
    return Response(script(name), media_type="text/javascript", headers=_NO_STORE)


@sockets.websocket("/softphone/ws")
async def softphone_socket(socket: WebSocket) -> None:
    """One registered phone per connection; closing the socket unregisters it."""
    keys: ApiKeys = socket.app.state.api_keys
    settings: Settings = socket.app.state.settings
    exchange: PhoneExchange | None = socket.app.state.phones
    await socket.accept()
    # Refused after the handshake, not during it, so the page can show the reason.
    refusal = websocket_refusal(keys, socket)
    if refusal:
        await socket.close(proto.CLOSE_UNAUTHORIZED, proto.close_reason(refusal))
        return
    if exchange is None:
        await socket.close(proto.CLOSE_TRY_AGAIN, "this gateway has no softphone line")
        return
    await SoftphoneBridge(socket, exchange, settings.gateway.softphone_number).run()
