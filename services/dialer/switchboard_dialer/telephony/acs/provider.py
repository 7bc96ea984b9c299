"""``AcsProvider``: calls placed and answered through ACS Call Automation.

Dialling asks ACS to call the number with bidirectional media streaming to the
gateway's ``/acs/media/{call_id}/{token}``; callbacks go to the gateway's
``/acs/callbacks/{call_id}/{token}``. The gateway checks the ACS JWT, then hands
callbacks (``Dialer.CarrierWebhook``) and the media socket (``Dialer.Phone``
``attach``) to the dialer, which checks the per-call token again. An outbound call
is answered when its media socket attaches; an inbound one (Event Grid
``IncomingCall``) is answered with ``answer_call`` once the dialer has opened its
call. Every event is acted on once: a replayed or duplicated delivery is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from urllib.parse import urlencode

from switchboard.carrier_tokens import ROUTE_PARAM, call_token, check_call_token, route_value
from switchboard.config import AcsSettings, ConfigError
from switchboard.errors import InvalidArgument, NotFound, SwitchboardError, Unavailable
from switchboard.phone import PhoneAttach
from switchboard.tasks import TaskOwner
from switchboard_dialer.telephony.acs.calls import MEDIA_SAMPLE_RATE, AcsCalls
from switchboard_dialer.telephony.acs.events import CallEvent, parse_callbacks, parse_incoming
from switchboard_dialer.telephony.acs.line import AcsLine, AcsMedia
from switchboard_dialer.telephony.base import CallerGone, CarrierOutcome, Ring, TelephonyProvider

log = logging.getLogger(__name__)

MEDIA_WAIT_SEC = 15.0  # an answered inbound call whose media never comes is dropped
SEEN_EVENTS = 10_000  # event ids remembered against replays (the JWT expiry bounds the rest)


class AcsProvider(TelephonyProvider):
    """Azure Communication Services; settings from the ``acs`` section."""

    name = "acs"
    sends_dtmf = True

    def __init__(self, settings: AcsSettings) -> None:
        super().__init__()
        missing = [
            key
            for key in ("endpoint", "access_key", "caller_id", "public_url", "url_signing_key")
            if not getattr(settings, key)
        ]
        if missing:
            raise ConfigError(
                f"dialer.telephony acs needs acs.{', acs.'.join(missing)} "
                "(secrets from SWITCHBOARD__ACS__…)"
            )
        self.settings = settings
        self.calls = AcsCalls(settings.endpoint, settings.access_key, settings.caller_id)
        self._lines: dict[str, AcsLine] = {}
        self._rings: dict[str, Ring] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks = TaskOwner("acs")

    # URLs.

    def _urls(self, call_id: str) -> tuple[str, str]:
        """The call's callback URL and media socket URL, both carrying its token."""
        key = self.settings.url_signing_key
        token = call_token(key, call_id)
        base = self.settings.public_url.rstrip("/")
        scheme, _, rest = base.partition("://")
        socket_base = f"{'wss' if scheme == 'https' else 'ws'}://{rest}"
        # With several dialer replicas, the URLs say (signed) which one runs the call.
        route = route_value(key, call_id, self.advertise_address)
        query = f"?{urlencode({ROUTE_PARAM: route})}" if route else ""
        callback = f"{base}/acs/callbacks/{call_id}/{token}{query}"
        return callback, f"{socket_base}/acs/media/{call_id}/{token}{query}"

    # Outbound.

    async def dial(self, call_id: str, to_number: str) -> Ring:
        line = AcsLine(call_id, self, remote_number=to_number)

        async def abandon(reason: str) -> None:
            self._rings.pop(call_id, None)
            await line.hang_up(reason)

        ring = Ring(call_id, ringing=True, on_abandon=abandon, sample_rate=MEDIA_SAMPLE_RATE)
        self._lines[call_id] = line
        self._rings[call_id] = ring
        callback_url, media_url = self._urls(call_id)
        try:
            line.connection_id = await self.calls.create(to_number, callback_url, media_url)
        except SwitchboardError:
            self.forget(line)
            raise
        log.info("acs call created", extra={"call_id": call_id})
        return ring

    # Inbound.

    async def answer(self, line: AcsLine) -> None:
        """Answers ``line``'s incoming call for its (new) call id, then waits for media."""
        self._lines[line.call_id] = line
        callback_url, media_url = self._urls(line.call_id)
        try:
            line.connection_id = await self.calls.answer(
                line.incoming_call_context, callback_url, media_url
            )
            async with asyncio.timeout(MEDIA_WAIT_SEC):
                await line.media_attached.wait()
        except TimeoutError as exc:
            await line.hang_up("no_media")
            raise Unavailable("ACS answered but its media socket never came") from exc
        except SwitchboardError:
            self.forget(line)
            raise

    async def _take_incoming(self, from_number: str, to_number: str, context: str) -> None:
        line = AcsLine("", self, incoming_call_context=context, remote_number=from_number)
        try:
            await self.take_inbound(from_number, to_number, line)
        except SwitchboardError as exc:
            log.warning("acs inbound call not taken", extra={"error": exc.message})
            self.forget(line)

    # The media socket.

    async def attach_media(self, attach: PhoneAttach) -> AcsMedia:
        if attach.provider != self.name:
            raise InvalidArgument(f"this dialer runs acs, not {attach.provider!r}")
        line = self._line_for(attach.call_id, attach.token)
        if attach.sample_rate not in (0, MEDIA_SAMPLE_RATE):
            raise InvalidArgument("acs media is PCM16 at 16000 Hz")
        media = AcsMedia(line)
        line.attach(media)
        ring = self._rings.pop(line.call_id, None)
        if ring is not None:
            ring.answered(line)
        log.info("acs media attached", extra={"call_id": line.call_id})
        return media

    def _line_for(self, call_id: str, token: str) -> AcsLine:
        line = self._lines.get(call_id)
        # One answer for "no such call" and "wrong token": nothing to learn from probing.
        if line is None or not check_call_token(self.settings.url_signing_key, call_id, token):
            raise NotFound("no live ACS call with this id and token")
        return line

    # Callbacks.

    async def webhook(self, kind: str, call_id: str, token: str, body: bytes) -> CarrierOutcome:
        """Acts on a carrier delivery; counts the events it acted on."""
        if kind == "events":
            return CarrierOutcome(self._incoming(body))
        if kind != "callback":
            raise InvalidArgument("kind must be callback or events")
        line = self._line_for(call_id, token)
        acted = 0
        for event in parse_callbacks(body):
            if self._first_time(event.event_id) and self._on_call_event(line, event):
                acted += 1
        return CarrierOutcome(acted)

    def _incoming(self, body: bytes) -> int:
        acted = 0
        for incoming in parse_incoming(body):
            if not self._first_time(incoming.event_id):
                continue
            acted += 1
            self._tasks.spawn(
                self._take_incoming(
                    incoming.from_number, incoming.to_number, incoming.incoming_call_context
                ),
                f"acs-incoming-{incoming.event_id}",
            )
        return acted

    def _first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        if len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        return True

    def _on_call_event(self, line: AcsLine, event: CallEvent) -> bool:
        log.info("acs event", extra={"call_id": line.call_id, "event": event.kind})
        match event.kind:
            case "CallConnected":
                if event.connection_id:
                    line.connection_id = event.connection_id
                return True
            case "CallDisconnected" | "CreateCallFailed" | "AnswerFailed":
                ring = self._rings.pop(line.call_id, None)
                if ring is not None:
                    ring.fail("no_answer" if event.kind == "CallDisconnected" else "failed")
                line.caller(CallerGone(reason="caller_hangup"))
                if line.media is not None:
                    line.media.end("caller_hangup")
                self.forget(line)
                return True
            case "CallTransferAccepted":
                return line.transfer_settled(event.operation_context, accepted=True)
            case "CallTransferFailed":
                return line.transfer_settled(event.operation_context, accepted=False)
        return False

    def forget(self, line: AcsLine) -> None:
        if self._lines.get(line.call_id) is line:
            del self._lines[line.call_id]
        self._rings.pop(line.call_id, None)

    async def close(self) -> None:
        await self._tasks.close()
        await self.calls.close()
