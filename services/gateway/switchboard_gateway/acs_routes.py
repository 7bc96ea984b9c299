"""The gateway's ACS endpoints (public, no API key: each checks what ACS can prove).

- ``POST /acs/callbacks/{call_id}/{token}``: Call Automation events of one call.
  ACS's JWT (401 without a valid one) and the per-call token (403) are checked,
  then the events go to the dialer, which acts on each event once.
- ``POST /acs/events?secret=…``: Event Grid (``IncomingCall``); answers the
  subscription-validation handshake itself. The secret is the subscription's.
- ``WS /acs/media/{call_id}/{token}``: the call's media socket, refused in the
  handshake (403) without a valid JWT and token, then bridged to the dialer.

The routes answer 404 while ``acs.url_signing_key`` is not configured.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import JSONResponse

from switchboard.carrier_tokens import ROUTE_PARAM, check_call_token, routed_address
from switchboard.config import AcsSettings, ConfigError
from switchboard.errors import SwitchboardError
from switchboard.phone import PhoneAttach
from switchboard_gateway.acs_jwt import AcsJwtVerifier, JwtRejected
from switchboard_gateway.acs_media import SAMPLE_RATE, AcsMediaBridge
from switchboard_gateway.carrier_link import CarrierLink
from switchboard_gateway.problems import ApiError

log = logging.getLogger(__name__)

PROVIDER = "acs"
VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"

router = APIRouter(prefix="/acs", include_in_schema=False)
sockets = APIRouter()


@dataclass
class AcsEdge:
    """What the ACS endpoints need; None on the app when ACS is not configured."""

    settings: AcsSettings
    verifier: AcsJwtVerifier
    link: CarrierLink


def acs_edge(settings: AcsSettings, link: CarrierLink) -> AcsEdge | None:
    """The ACS endpoints' needs, or None while ACS is not configured (no signing key)."""
    if not settings.url_signing_key:
        return None
    if not settings.resource_id:
        # Without the audience every ACS JWT would be refused: fail at startup instead.
        raise ConfigError("acs.resource_id (the ACS resource's immutable id) is required")
    return AcsEdge(settings, AcsJwtVerifier(settings), link)


def _edge(app_state: Any) -> AcsEdge:
    edge: AcsEdge | None = getattr(app_state, "acs", None)
    if edge is None:
        raise ApiError(404, "ACS is not configured on this gateway")
    return edge


def _route(edge: AcsEdge, call_id: str, value: str | None) -> str | None:
    """The dialer address the URL's signed route names ("" for none); None when forged."""
    return routed_address(edge.settings.url_signing_key, call_id, value or "")


@router.post("/callbacks/{call_id}/{token}")
async def acs_callback(call_id: str, token: str, request: Request) -> JSONResponse:
    """One call's Call Automation events (a JSON array of CloudEvents)."""
    edge = _edge(request.app.state)
    try:
        await edge.verifier.verify(request.headers.get("authorization"))
    except JwtRejected as exc:
        raise ApiError(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    route = _route(edge, call_id, request.query_params.get(ROUTE_PARAM))
    if not check_call_token(edge.settings.url_signing_key, call_id, token) or route is None:
        raise ApiError(403, "this URL's token is not the call's")
    body = await request.body()
    accepted = await edge.link.webhook(PROVIDER, "callback", call_id, token, body, route)
    return JSONResponse({"accepted": accepted})


@router.post("/events")
async def acs_events(request: Request) -> JSONResponse:
    """Event Grid deliveries: the validation handshake, then ``IncomingCall``."""
    edge = _edge(request.app.state)
    secret = request.query_params.get("secret")
    if not secret or not edge.settings.event_grid_secret:
        raise ApiError(401, "the Event Grid subscription URL needs ?secret=")
    if not hmac.compare_digest(secret.encode(), edge.settings.event_grid_secret.encode()):
        raise ApiError(403, "wrong secret")
    body = await request.body()
    try:
        events = json.loads(body or b"[]")
    except ValueError as exc:
        raise ApiError(422, "the body must be a JSON array of Event Grid events") from exc
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict) and event.get("eventType") == VALIDATION_EVENT:
            code = (event.get("data") or {}).get("validationCode", "")
            log.info("event grid subscription validated")
            return JSONResponse({"validationResponse": code})
    accepted = await edge.link.webhook(PROVIDER, "events", "", "", body)
    return JSONResponse({"accepted": accepted})


@sockets.websocket("/acs/media/{call_id}/{token}")
async def acs_media(socket: WebSocket, call_id: str, token: str) -> None:
    """The call's media, refused in the handshake unless ACS proves who it is."""
    edge: AcsEdge | None = getattr(socket.app.state, "acs", None)
    route = None if edge is None else _route(edge, call_id, socket.query_params.get(ROUTE_PARAM))
    if edge is None or route is None:
        await socket.close(1008)  # before accept: the handshake gets 403
        return
    if not check_call_token(edge.settings.url_signing_key, call_id, token):
        await socket.close(1008)
        return
    try:
        await edge.verifier.verify(socket.headers.get("authorization"))
    except JwtRejected:
        log.info("acs media socket refused: no valid JWT")
        await socket.close(1008)
        return
    try:
        attach = PhoneAttach(PROVIDER, call_id, token, SAMPLE_RATE)
        stream = await edge.link.attach(attach, route)
    except SwitchboardError as exc:
        log.info("acs media socket refused", extra={"error": exc.message})
        await socket.close(1008)
        return
    await socket.accept()
    await AcsMediaBridge(socket, stream).run()
