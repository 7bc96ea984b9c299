"""The ``twilio`` telephony provider: Programmable Voice with bidirectional Media Streams.

The dialer places calls through the REST API (``calls.create`` with
``<Connect><Stream>`` TwiML) and owns each call's life; Twilio's webhooks and its
media socket end at the gateway, which checks their signatures and bridges the
socket onto ``Dialer.Phone`` (one stream per call, opened with ``attach`` and the
call's media token), converting µ-law to PCM16 at that edge. Status callbacks
arrive as ``Dialer.CarrierWebhook`` (kind ``status``, Twilio's form body as sent),
as ACS's do; the dialer checks each call's token again. See docs/carriers.md for why.

Bot audio for a call is queued on the call, not on its media stream, so the
greeting of an inbound call (which starts before Twilio opens the socket) is
played as soon as the socket is there.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

from switchboard.carrier_tokens import check_call_token, route_value
from switchboard.clock import Clock, SystemClock
from switchboard.config import TwilioSettings
from switchboard.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    SwitchboardError,
)
from switchboard.media import whole_frames
from switchboard.phone import (
    AudioFrame,
    BotSentencePlayed,
    BotTurnDone,
    ClearAudio,
    Dtmf,
    PhoneAttach,
    PhoneCallEnded,
    PhoneDownlink,
    PhoneHangUp,
    PhoneTransferred,
    PhoneUplink,
)
from switchboard.tasks import TaskOwner
from switchboard.twilio_urls import dial_twiml, status_url, stream_twiml
from switchboard_dialer.telephony.base import (
    CallerDtmf,
    CallerGone,
    CarrierOutcome,
    PhoneLine,
    QueuedCallerLine,
    Ring,
    TelephonyProvider,
    drop_queued_audio,
)
from switchboard_dialer.telephony.twilio_rest import TwilioRest

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000  # Media Streams carry µ-law at 8 kHz
FRAME_BYTES = SAMPLE_RATE // 50 * 2
MAX_UNSENT_FRAMES = 500  # bot frames kept for a socket that is not there yet (10 s)
# An inbound call whose Media Stream never connects (the caller hung up first) is dropped.
MEDIA_WAIT_SEC = 15.0
# CallSids remembered so a replayed Voice webhook is not taken twice (oldest forgotten first).
MAX_REMEMBERED_SIDS = 10_000
# Twilio's final statuses for a call that never connected, as ring outcomes.
RING_FAILURES = {
    "busy": ("busy", True),
    "no-answer": ("no_answer", True),
    "failed": ("failed", True),
    "canceled": ("canceled", False),
    "completed": ("no_answer", True),
}


class TwilioCall:
    """One Twilio call this dialer placed or took: its CallSid, ring or line, and the
    bot's output waiting for (or flowing to) the gateway's media stream."""

    def __init__(self, provider: TwilioProvider, call_id: str, sid: str) -> None:
        self.provider = provider
        self.call_id = call_id
        self.sid = sid
        self.ring: Ring | None = None
        self.line: TwilioLine | None = None
        self.answered_by = ""
        self.attached = asyncio.Event()
        self.downlink: asyncio.Queue[PhoneDownlink | None] = asyncio.Queue()
        self.over = False

    def push(self, event: PhoneDownlink) -> None:
        if self.over:
            return
        if isinstance(event, AudioFrame) and not self.attached.is_set():
            if self.downlink.qsize() >= MAX_UNSENT_FRAMES:
                return
        self.downlink.put_nowait(event)

    def clear_audio(self) -> None:
        drop_queued_audio(self.downlink)
        self.push(ClearAudio())

    def finish(self, final: PhoneDownlink | None = None) -> None:
        """The call is over for the dialer: the media stream gets ``final`` and ends."""
        if self.over:
            return
        if final is not None:
            self.downlink.put_nowait(final)
        self.over = True
        self.downlink.put_nowait(None)
        self.provider.forget(self)


class TwilioLine(QueuedCallerLine):
    """A connected Twilio call, at 8 kHz PCM16 (the gateway converts µ-law)."""

    def __init__(self, call: TwilioCall) -> None:
        super().__init__(call.call_id, SAMPLE_RATE)
        self._call = call

    def play_frame(self, pcm: bytes) -> None:
        self._call.push(self.next_audio_frame(pcm))

    def clear_audio(self) -> None:
        self._call.clear_audio()

    def _caller_left(self, event: CallerGone) -> None:
        """The call is over for the dialer: its media stream ends."""
        self._call.finish()

    async def say(self, turn_id: str, text: str) -> None:
        """A phone hears the bot only as audio."""

    def sentence_played(self, turn_id: str, index: int, text: str) -> None:
        self._call.push(BotSentencePlayed(turn_id=turn_id, index=index))  # a mark

    async def turn_done(self, turn_id: str) -> None:
        self._call.push(BotTurnDone(turn_id=turn_id))  # the gateway sends a mark

    async def transfer(self, target: str) -> None:
        await self._call.provider.rest.update_call(self._call.sid, twiml=dial_twiml(target))
        self._call.push(PhoneTransferred(target=target))
        self._call.finish(PhoneCallEnded(reason="transferred"))

    async def hang_up(self, reason: str) -> None:
        if self._call.over:
            return
        self._call.finish(PhoneCallEnded(reason=reason))
        try:
            await self._call.provider.rest.update_call(self._call.sid, status="completed")
        except SwitchboardError as exc:
            log.warning(
                "twilio hang-up failed", extra={"call_id": self.call_id, "error": exc.message}
            )

    async def accept(self, call_id: str) -> None:
        await super().accept(call_id)
        self._call.call_id = call_id
        self._call.provider.remember(self._call)


class MediaLeg:
    """One ``Dialer.Phone`` stream from the gateway, attached to one call's Media Stream."""

    def __init__(self, call: TwilioCall) -> None:
        self._call = call
        self._closed = False
        call.attached.set()

    async def downlink(self) -> AsyncIterator[PhoneDownlink]:
        """The bot's side of the call (queued since the ring, for an inbound greeting)."""
        while not self._closed and (event := await self._call.downlink.get()) is not None:
            yield event

    async def handle(self, event: PhoneUplink) -> None:
        match event:
            case AudioFrame(pcm=pcm):
                if not whole_frames(pcm, SAMPLE_RATE):
                    raise InvalidArgument(
                        f"audio.pcm must be whole 20 ms frames at 8 kHz ({FRAME_BYTES} bytes each)"
                    )
                if (line := self._line()) is not None:
                    line.caller_frames(pcm)
            case Dtmf(digits=digits):
                if (line := self._line()) is not None:
                    line.caller(CallerDtmf(digits=digits))
            case PhoneHangUp():
                if (line := self._line()) is not None:
                    line.caller(CallerGone(reason="caller_hangup"))
            case _:
                raise InvalidArgument("a media stream sends audio, dtmf or hang_up")

    def _line(self) -> TwilioLine | None:
        return self._call.line

    def close(self) -> None:
        """The gateway's stream ended: a connected call without its media is dropped."""
        if self._closed:
            return
        self._closed = True
        self._call.downlink.put_nowait(None)  # ends downlink() if it waits
        if (line := self._line()) is not None:
            line.caller(CallerGone(reason="line_dropped"))


class TwilioProvider(TelephonyProvider):
    """Places and takes Twilio calls; their media comes through the gateway."""

    name = "twilio"

    def __init__(
        self,
        settings: TwilioSettings,
        rest: TwilioRest | None = None,
        clock: Clock | None = None,
        media_wait_sec: float = MEDIA_WAIT_SEC,
    ) -> None:
        super().__init__()
        if not settings.public_url:
            raise FailedPrecondition("twilio needs dialer.twilio.public_url (the gateway)")
        self._settings = settings
        self.rest = rest or TwilioRest(settings)
        self._calls: dict[str, TwilioCall] = {}
        self._sids: OrderedDict[str, None] = OrderedDict()
        self._clock = clock or SystemClock()
        self._media_wait_sec = media_wait_sec
        self._tasks = TaskOwner("twilio")

    # The call table.

    def remember(self, call: TwilioCall) -> None:
        self._calls[call.call_id] = call

    def forget(self, call: TwilioCall) -> None:
        if self._calls.get(call.call_id) is call:
            del self._calls[call.call_id]

    def _call_for(self, call_id: str, token: str, purpose: str) -> TwilioCall | None:
        """The live call of a callback or media URL; None for a wrong token or no call."""
        if not check_call_token(self._settings.auth_token, call_id, token, purpose):
            return None
        return self._calls.get(call_id)

    # Media streams (the gateway's bridges, ``Dialer.Phone`` ``attach``).

    async def attach_media(self, attach: PhoneAttach) -> MediaLeg:
        """The media stream of a call; an outbound ring is answered by it."""
        if attach.provider != self.name:
            raise InvalidArgument(f"this dialer runs twilio, not {attach.provider!r}")
        if attach.sample_rate not in (0, SAMPLE_RATE):
            raise InvalidArgument("a Twilio media stream is 8000 Hz")
        call = self._call_for(attach.call_id, attach.token, "call")
        # One answer for "no such call" and "wrong token": nothing to learn from probing.
        if call is None or call.over:
            raise NotFound("no Twilio call with this id and token waits for its media")
        if call.attached.is_set():
            raise AlreadyExists("this call's media stream is already attached")
        if call.line is None and call.ring is not None:
            call.line = TwilioLine(call)
            ring, call.ring = call.ring, None
            ring.answered(call.line)
        log.info("twilio media attached", extra={"call_id": call.call_id})
        return MediaLeg(call)

    # The seam.

    async def dial(self, call_id: str, to_number: str) -> Ring:
        secret = self._settings.auth_token
        public = self._settings.public_url
        route = route_value(secret, call_id, self.advertise_address)
        sid = await self.rest.create_call(
            to_number,
            stream_twiml(public, call_id, secret, route),
            status_url(public, call_id, secret, route),
            self._settings.machine_detection,
        )
        call = TwilioCall(self, call_id, sid)

        async def abandon(reason: str) -> None:
            call.finish()
            try:
                await self.rest.update_call(sid, status="canceled")
            except SwitchboardError as exc:
                log.warning(
                    "twilio cancel failed", extra={"call_id": call_id, "error": exc.message}
                )

        call.ring = Ring(call_id, ringing=True, on_abandon=abandon, sample_rate=SAMPLE_RATE)
        self._remember_sid(sid)
        self.remember(call)
        log.info("twilio call placed", extra={"call_id": call_id})
        return call.ring

    async def accept_webhook(self, provider_call_id: str) -> PhoneLine:
        if not provider_call_id:
            raise InvalidArgument("provider_call_id (the CallSid) is required")
        if provider_call_id in self._sids:
            raise AlreadyExists("this Twilio call was already taken")
        self._remember_sid(provider_call_id)
        call = TwilioCall(self, "", provider_call_id)
        call.line = TwilioLine(call)
        self._tasks.spawn(self._drop_without_media(call), f"twilio-media-wait-{provider_call_id}")
        return call.line

    async def _drop_without_media(self, call: TwilioCall) -> None:
        await self._clock.sleep(self._media_wait_sec)
        if not call.attached.is_set() and call.line is not None:
            log.info("twilio media stream never came", extra={"call_id": call.call_id})
            call.line.caller(CallerGone(reason="line_dropped"))

    def _remember_sid(self, sid: str) -> None:
        self._sids[sid] = None
        while len(self._sids) > MAX_REMEMBERED_SIDS:
            self._sids.popitem(last=False)

    async def webhook(self, kind: str, call_id: str, token: str, body: bytes) -> CarrierOutcome:
        """A status or answering-machine callback (``kind`` ``status``, Twilio's form body);
        replays, stale ones and those of calls this dialer does not run change nothing."""
        if kind != "status":
            raise InvalidArgument("twilio callbacks are of kind status")
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if not check_call_token(self._settings.auth_token, call_id, token, "status"):
            raise NotFound("no Twilio call with this id and token")
        return self.carrier_status(
            call_id, form.get("CallSid", ""), form.get("CallStatus", ""), form.get("AnsweredBy", "")
        )

    def carrier_status(
        self, call_id: str, provider_call_id: str, status: str, answered_by: str
    ) -> CarrierOutcome:
        """One checked callback's facts, applied only if they move the call forward."""
        call = self._calls.get(call_id)
        if call is None or (provider_call_id and provider_call_id != call.sid):
            return CarrierOutcome(accepted=0)
        detected = ""
        if answered_by and not call.answered_by:
            call.answered_by = detected = answered_by
        applied = bool(detected)
        if call.ring is not None and status in RING_FAILURES:
            reason, failed = RING_FAILURES[status]
            ring, call.ring = call.ring, None
            call.finish()
            ring.fail(reason, failed)
            applied = True
        elif call.line is not None and status == "completed":
            call.line.caller(CallerGone(reason="caller_hangup"))
            applied = True
        return CarrierOutcome(int(applied), detected)

    async def close(self) -> None:
        await self._tasks.close()
        for call in list(self._calls.values()):
            call.finish()
