"""Twilio's side of the gateway: the Voice webhook, status callbacks and the Media
Streams socket (``/twilio/*``), authenticated by ``X-Twilio-Signature``, not API keys.

Every request is checked before anything happens: a missing or wrong signature is
403 and nothing reaches the dialer. Status callbacks also carry the call's token
(:mod:`switchboard.carrier_tokens`), so a signed callback for one call cannot be
pointed at another; a checked one goes to ``Dialer.CarrierWebhook`` (kind ``status``)
with Twilio's form body, and a replayed one changes nothing there.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import Response

from switchboard.carrier_tokens import (
    ROUTE_PARAM,
    check_call_token,
    route_value,
    routed_address,
)
from switchboard.config import Settings
from switchboard.errors import NotFound, SwitchboardError
from switchboard.twilio_urls import (
    MEDIA_PATH,
    STATUS_PATH,
    VOICE_PATH,
    media_url,
    reject_twiml,
    stream_twiml,
)
from switchboard_gateway.carrier_link import CarrierLink
from switchboard_gateway.twilio_link import PROVIDER, TwilioSignatures
from switchboard_gateway.twilio_media import TwilioMediaBridge

log = logging.getLogger(__name__)

router = APIRouter(tags=["twilio"], include_in_schema=False)
SIGNATURE_HEADER = "x-twilio-signature"
MAX_FORM_BYTES = 16 * 1024


def _signatures(request: Request | WebSocket) -> TwilioSignatures:
    signatures: TwilioSignatures = request.app.state.twilio_signatures
    return signatures


def _dialer(request: Request | WebSocket) -> CarrierLink:
    link: CarrierLink = request.app.state.carrier_link
    return link


async def _signed_form(request: Request) -> tuple[dict[str, str], bytes] | None:
    """The POST parameters and the body they came in, or None when the signature does
    not match them."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    signatures = _signatures(request)
    url = signatures.url(request.url.path, request.url.query)
    if not signatures.valid(url, params, request.headers.get(SIGNATURE_HEADER)):
        log.warning("twilio request refused: bad signature", extra={"path": request.url.path})
        return None
    return params, body


def _forbidden() -> Response:
    return Response("forbidden", status_code=403, media_type="text/plain")


def _twiml(body: str) -> Response:
    return Response(body, media_type="text/xml")


@router.post(VOICE_PATH)
async def voice_webhook(request: Request) -> Response:
    """An inbound call: a dialer replica takes it, Twilio streams it to our media socket,
    whose URL carries the signed route to that replica (as an outbound call's does)."""
    signed = await _signed_form(request)
    if signed is None:
        return _forbidden()
    params, _ = signed
    settings: Settings = request.app.state.settings
    twilio = settings.dialer.twilio
    try:
        answered = await _dialer(request).answer_call(
            PROVIDER, params.get("From", ""), params.get("To", ""), params.get("CallSid", "")
        )
    except SwitchboardError as exc:
        log.warning("twilio inbound call not taken", extra={"error": exc.message})
        return _twiml(reject_twiml())
    secret, call_id = twilio.auth_token, answered.call_id
    route = route_value(secret, call_id, answered.dialer_address)
    return _twiml(stream_twiml(twilio.public_url, call_id, secret, route))


@router.post(STATUS_PATH)
async def status_callback(request: Request) -> Response:
    """Call progress and answering-machine results for one of our calls."""
    signed = await _signed_form(request)
    if signed is None:
        return _forbidden()
    _, body = signed
    settings: Settings = request.app.state.settings
    call_id = request.query_params.get("call_id", "")
    token = request.query_params.get("token", "")
    secret = settings.dialer.twilio.auth_token
    route = routed_address(secret, call_id, request.query_params.get(ROUTE_PARAM, ""))
    if not check_call_token(secret, call_id, token, "status") or route is None:
        return _forbidden()
    try:
        accepted = await _dialer(request).webhook(PROVIDER, "status", call_id, token, body, route)
    except NotFound:
        # The call is over (or never was this dialer's): nothing to apply, nothing to retry.
        accepted = 0
    except SwitchboardError as exc:
        log.warning("twilio status not delivered", extra={"call_id": call_id, "error": exc.message})
        return Response(status_code=503)
    log.info("twilio status", extra={"call_id": call_id, "applied": accepted})
    return Response(status_code=204)


@router.websocket(MEDIA_PATH + "/{call_id}")
async def media_socket(socket: WebSocket, call_id: str) -> None:
    """One call's Media Stream; refused (403) before the handshake when unsigned."""
    signatures = _signatures(socket)
    settings: Settings = socket.app.state.settings
    url = media_url(settings.dialer.twilio.public_url, call_id)
    if not signatures.valid(url, {}, socket.headers.get(SIGNATURE_HEADER)):
        log.warning("twilio media socket refused: bad signature", extra={"call_id": call_id})
        await socket.close(code=1008)  # before accept: the handshake gets 403
        return
    await socket.accept()
    await TwilioMediaBridge(socket, _dialer(socket), call_id, settings.dialer.twilio).run()
