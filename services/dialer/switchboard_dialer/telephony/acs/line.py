"""One ACS call's line (:class:`AcsLine`) and its media socket (:class:`AcsMedia`).

ACS opens the media WebSocket to the gateway, which attaches it to the call here
over ``Dialer.Phone`` (``attach``). Caller audio arrives as 20 ms PCM16 frames at
16 kHz; bot frames and ``ClearAudio`` go back down the same stream, and the
gateway turns them into ``AudioData`` and ``StopAudio`` in the order they come,
so the stop leaves in the same frame slot the playout stopped in.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from switchboard.dtmf import check_dtmf
from switchboard.errors import FailedPrecondition, InvalidArgument
from switchboard.phone import (
    AudioFrame,
    ClearAudio,
    Dtmf,
    PhoneCallEnded,
    PhoneDownlink,
    PhoneHangUp,
    PhoneTransferred,
    PhoneUplink,
)
from switchboard_dialer.telephony.base import (
    CallerDtmf,
    CallerGone,
    QueuedCallerLine,
    drop_queued_audio,
)

if TYPE_CHECKING:
    from switchboard_dialer.telephony.acs.provider import AcsProvider

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FRAME_BYTES = SAMPLE_RATE // 50 * 2


class AcsMedia:
    """The attached media socket of one call: what the gateway sends and receives."""

    def __init__(self, line: AcsLine) -> None:
        self.line = line
        self._downlink: asyncio.Queue[PhoneDownlink | None] = asyncio.Queue()
        self._closed = False

    def push(self, event: PhoneDownlink) -> None:
        if not self._closed:
            self._downlink.put_nowait(event)

    def clear_audio(self) -> None:
        """Drops bot frames not yet sent to the gateway, then sends the stop at once."""
        drop_queued_audio(self._downlink)
        self.push(ClearAudio())

    async def downlink(self) -> AsyncIterator[PhoneDownlink]:
        while (event := await self._downlink.get()) is not None:
            yield event

    async def handle(self, event: PhoneUplink) -> None:
        match event:
            case AudioFrame(pcm=pcm):
                if len(pcm) != FRAME_BYTES:
                    raise InvalidArgument(
                        f"audio.pcm must be one 20 ms PCM16 frame at 16 kHz ({FRAME_BYTES} bytes)"
                    )
                if self.line.media is self:
                    self.line.caller_frames(pcm)
            case Dtmf(digits=digits):
                check_dtmf(digits, "dtmf.digits")
                if self.line.media is self:
                    self.line.caller(CallerDtmf(digits=digits))
            case PhoneHangUp():
                self.close()
            case _:
                raise InvalidArgument("an attached media stream carries audio, dtmf and hang_up")

    def end(self, reason: str) -> None:
        """The call is over: tell the gateway (it closes the socket) and stop."""
        self.push(PhoneCallEnded(reason=reason))
        self._closed = True
        self._downlink.put_nowait(None)

    def close(self) -> None:
        """The socket is gone. Without a disconnect callback first, the line dropped."""
        if not self._closed:
            self._closed = True
            self._downlink.put_nowait(None)
        self.line.media_gone(self)


class AcsLine(QueuedCallerLine):
    """A call placed or answered through ACS; voice at 16 kHz once its media attaches."""

    def __init__(
        self,
        call_id: str,
        provider: AcsProvider,
        incoming_call_context: str = "",
        remote_number: str = "",
    ) -> None:
        super().__init__(call_id, SAMPLE_RATE)
        self._provider = provider
        self.remote_number = remote_number  # E.164 of the callee (or caller); "" if withheld
        self.incoming_call_context = incoming_call_context
        self.connection_id = ""
        self.media: AcsMedia | None = None
        self.media_attached = asyncio.Event()
        self._transfer: asyncio.Future[bool] | None = None
        self._transfer_context = ""
        self.on_gone: Callable[[], Awaitable[None]] | None = None

    # Media.

    def attach(self, media: AcsMedia) -> None:
        """A (re)connected socket replaces the previous one."""
        if self.media is not None and self.media is not media:
            self.media.end("replaced")
        self.media = media
        self.media_attached.set()

    def media_gone(self, media: AcsMedia) -> None:
        if self.media is media:
            self.media = None
            self.caller(CallerGone(reason="line_dropped"))

    def play_frame(self, pcm: bytes) -> None:
        if self.media is not None:
            self.media.push(self.next_audio_frame(pcm))

    def clear_audio(self) -> None:
        if self.media is not None:
            self.media.clear_audio()

    # Caller events.

    def _caller_left(self, event: CallerGone) -> None:
        """A transfer still waiting for ACS's answer failed: the caller is gone."""
        if self._transfer is not None and not self._transfer.done():
            self._transfer.set_result(False)

    async def say(self, turn_id: str, text: str) -> None:
        """The caller hears the bot as audio only."""

    async def turn_done(self, turn_id: str) -> None:
        """Nothing to tell ACS: the audio was sent frame by frame."""

    # Control.

    async def accept(self, call_id: str) -> None:
        """An inbound call became ``call_id``: answer it and wait for its media."""
        await super().accept(call_id)
        await self._provider.answer(self)

    async def transfer(self, target: str) -> None:
        """Blind transfer; raises ``FailedPrecondition`` when ACS reports it failed."""
        if not self.connection_id or self.gone:
            raise FailedPrecondition("the call is not connected")
        loop = asyncio.get_running_loop()
        self._transfer = loop.create_future()
        self._transfer_context = f"transfer-{uuid.uuid4().hex}"
        await self._provider.calls.transfer(self.connection_id, target, self._transfer_context)
        try:
            async with asyncio.timeout(self._provider.settings.transfer_timeout_sec):
                accepted = await self._transfer
        except TimeoutError:
            accepted = False
        if not accepted:
            raise FailedPrecondition("the transfer failed")
        if self.media is not None:
            self.media.push(PhoneTransferred(target=target))
            self.media.end("transferred")
        self.caller(CallerGone(reason="transferred"))

    def transfer_settled(self, operation_context: str, accepted: bool) -> bool:
        """A CallTransferAccepted/Failed callback; False when no such transfer waits."""
        waiting = self._transfer
        if waiting is None or waiting.done() or operation_context != self._transfer_context:
            return False
        waiting.set_result(accepted)
        return True

    async def send_dtmf(self, digits: str) -> None:
        """Touch tones through Call Automation (the media socket carries none out)."""
        if not self.connection_id or self.gone:
            raise FailedPrecondition("the call is not connected")
        if not self.remote_number:
            raise FailedPrecondition("the caller's number is withheld; ACS needs it for tones")
        await self._provider.calls.send_dtmf(self.connection_id, self.remote_number, digits)

    async def hang_up(self, reason: str) -> None:
        already_gone = self.gone
        self.caller(CallerGone(reason=reason))
        if self.media is not None:
            self.media.end(reason)
            self.media = None
        if not already_gone and self.connection_id:
            await self._provider.calls.hang_up(self.connection_id)
        self._provider.forget(self)
