"""The ``simulator`` provider: virtual phones attached through the ``Dialer.Phone`` stream.

Each registered phone is a number the bot can ring and a caller that can ring the
bot. Text mode carries whole caller turns and bot sentences as text. Voice mode
carries 20 ms PCM16 frames both ways at the phone's rate (8000 or 16000): the
caller's frames up, the bot's frames down as the dialer's playout paces them
(real time, or ``speed`` times faster for tests), and ``clear_audio`` when the
caller barges in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from switchboard.clock import Clock, SystemClock
from switchboard.dtmf import check_dtmf
from switchboard.errors import AlreadyExists, FailedPrecondition, InvalidArgument, SwitchboardError
from switchboard.phone import (
    AudioFrame,
    BotDtmf,
    BotSaid,
    BotTurnDone,
    ClearAudio,
    Dtmf,
    PhoneAnswer,
    PhoneAttach,
    PhoneCall,
    PhoneCallEnded,
    PhoneConnected,
    PhoneDownlink,
    PhoneHangUp,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneSay,
    PhoneTransferred,
    PhoneUplink,
)
from switchboard.phones import parse_e164
from switchboard.tasks import TaskOwner
from switchboard_dialer.telephony.base import (
    CallerDtmf,
    CallerGone,
    CallerSaid,
    QueuedCallerLine,
    Ring,
    TelephonyProvider,
    drop_queued_audio,
)

log = logging.getLogger(__name__)

# The number the bot calls from. Nothing in the config names it yet.
SIMULATOR_BOT_NUMBER = "+18005550100"
# How long a call to a number without a registered phone "rings" before it fails.
NO_PHONE_DELAY_SEC = 1.0
MAX_SAY_CHARS = 4000
DEFAULT_SAMPLE_RATE = 8000
SAMPLE_RATES = (8000, 16000)
MAX_SPEED = 50.0


def frame_bytes(sample_rate: int) -> int:
    return sample_rate // 50 * 2


class SimulatedLine(QueuedCallerLine):
    """The line between the bot and one virtual phone, for one call."""

    def __init__(self, call_id: str, phone: SimulatedPhone) -> None:
        super().__init__(call_id, phone.sample_rate if phone.mode is PhoneMode.VOICE else 0)
        self.playout_speed = phone.speed
        self._phone = phone

    def play_frame(self, pcm: bytes) -> None:
        if self._phone.line is self:
            self._phone.push(self.next_audio_frame(pcm))

    def clear_audio(self) -> None:
        if self._phone.line is self:
            self._phone.clear_audio()

    @property
    def attached(self) -> bool:
        return self._phone.line is self

    async def say(self, turn_id: str, text: str) -> None:
        # A voice phone gets the words once they are heard (sentence_played), not before.
        if self.attached and not self.is_voice:
            self._phone.push(BotSaid(turn_id=turn_id, text=text))

    def sentence_played(self, turn_id: str, index: int, text: str) -> None:
        if self.attached and text:
            self._phone.push(BotSaid(turn_id=turn_id, text=text))

    async def turn_done(self, turn_id: str) -> None:
        if self.attached:
            self._phone.push(BotTurnDone(turn_id=turn_id))

    async def transfer(self, target: str) -> None:
        if self.attached:
            self._phone.push(PhoneTransferred(target=target))
            self._phone.push(PhoneCallEnded(reason="transferred"))
            self._phone.detach(self)

    async def hang_up(self, reason: str) -> None:
        if self.attached:
            self._phone.push(PhoneCallEnded(reason=reason))
            self._phone.detach(self)

    async def accept(self, call_id: str) -> None:
        await super().accept(call_id)
        if self.attached:
            self._phone.push(PhoneConnected(call_id=call_id))

    async def send_dtmf(self, digits: str) -> None:
        if self.attached:
            self._phone.push(BotDtmf(digits=digits))


class SimulatedPhone:
    """One registered virtual phone: its downlink queue, its ring and its line."""

    def __init__(self, registration: PhoneRegister, provider: SimulatorProvider) -> None:
        self.number = registration.number
        self.mode = registration.mode
        self.sample_rate = registration.sample_rate or DEFAULT_SAMPLE_RATE
        self.speed = registration.speed or 1.0
        self.auto_answer = registration.auto_answer
        self._provider = provider
        self._downlink: asyncio.Queue[PhoneDownlink | None] = asyncio.Queue()
        self._ring: Ring | None = None
        self.line: SimulatedLine | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._ring is not None or self.line is not None

    def push(self, event: PhoneDownlink) -> None:
        if not self._closed:
            self._downlink.put_nowait(event)

    async def downlink(self) -> AsyncIterator[PhoneDownlink]:
        """What to send the phone, until it unregisters."""
        while (event := await self._downlink.get()) is not None:
            yield event

    def clear_audio(self) -> None:
        """Drops the bot frames not yet sent to the phone, then tells it to drop its own."""
        drop_queued_audio(self._downlink)
        self.push(ClearAudio())

    def detach(self, line: SimulatedLine) -> None:
        if self.line is line:
            self.line = None

    def ring(self, call_id: str, from_number: str) -> Ring:
        async def abandon(reason: str) -> None:
            if self._ring is ring:
                self._ring = None
                self.push(PhoneCallEnded(reason=reason))

        rate = self.sample_rate if self.mode is PhoneMode.VOICE else 0
        ring = Ring(call_id, ringing=True, on_abandon=abandon, sample_rate=rate)
        self._ring = ring
        self.push(PhoneRinging(call_id=call_id, from_number=from_number))
        if self.auto_answer:
            self._answer(call_id)
        return ring

    def _answer(self, call_id: str) -> None:
        ring = self._ring
        if ring is None or ring.call_id != call_id or ring.settled:
            log.debug("answer ignored: no such ringing call", extra={"call_id": call_id})
            return
        self._ring = None
        self.line = SimulatedLine(call_id, self)
        self.push(PhoneConnected(call_id=call_id))
        ring.answered(self.line)

    async def handle(self, event: PhoneUplink) -> None:
        """One uplink message after registration. Raises domain errors on misuse."""
        match event:
            case PhoneRegister() | PhoneAttach():
                raise InvalidArgument("register is only allowed once, as the first message")
            case PhoneAnswer(call_id=call_id):
                self._answer(call_id)
            case PhoneSay(text=text):
                if self.mode is PhoneMode.VOICE:
                    raise InvalidArgument("a VOICE phone speaks with audio frames, not say")
                if not text.strip():
                    raise InvalidArgument("say.text must not be empty")
                if len(text) > MAX_SAY_CHARS:
                    raise InvalidArgument(f"say.text is limited to {MAX_SAY_CHARS} characters")
                if self.line is not None:
                    self.line.caller(CallerSaid(text=text))
            case AudioFrame(pcm=pcm):
                if self.mode is PhoneMode.TEXT:
                    raise InvalidArgument("audio frames need a phone registered with mode VOICE")
                if len(pcm) != frame_bytes(self.sample_rate):
                    raise InvalidArgument(
                        f"audio.pcm must be one 20 ms PCM16 frame at {self.sample_rate} Hz: "
                        f"{frame_bytes(self.sample_rate)} bytes, got {len(pcm)}"
                    )
                if self.line is not None:
                    self.line.caller_frames(pcm)
            case Dtmf(digits=digits):
                check_dtmf(digits, "dtmf.digits")
                if self.line is not None:
                    self.line.caller(CallerDtmf(digits=digits))
            case PhoneHangUp():
                self._hang_up()
            case PhoneCall(to_number=to_number):
                await self._dial(parse_e164(to_number, "dial.to_number"))

    def _hang_up(self) -> None:
        if self._ring is not None:
            self._ring.fail("rejected")
        if self.line is not None:
            line = self.line
            self.detach(line)
            line.caller(CallerGone(reason="caller_hangup"))
            self.push(PhoneCallEnded(reason="caller_hangup"))

    async def _dial(self, to_number: str) -> None:
        if self.busy:
            raise FailedPrecondition("this phone is already in a call; hang up first")
        line = SimulatedLine("", self)
        self.line = line
        try:
            await self._provider.take_inbound(self.number, to_number, line)
        except SwitchboardError as exc:
            self.detach(line)
            if not exc.retryable:
                raise
            log.warning("inbound call not taken", extra={"error": exc.message})
            self.push(PhoneCallEnded(reason="unavailable"))

    def close(self) -> None:
        """The phone's stream ended: a ringing call goes unanswered, a live one drops."""
        if self._closed:
            return
        if self._ring is not None:
            self._ring.fail("no_answer")
        if self.line is not None:
            line = self.line
            self.detach(line)
            line.caller(CallerGone(reason="line_dropped"))
        self._closed = True
        self._downlink.put_nowait(None)


class SimulatorProvider(TelephonyProvider):
    """Virtual phones by number; dialling one rings it, a number without one fails."""

    name = "simulator"
    sends_dtmf = True

    def __init__(
        self,
        bot_number: str = SIMULATOR_BOT_NUMBER,
        no_phone_delay_sec: float = NO_PHONE_DELAY_SEC,
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        self.bot_number = bot_number
        self._no_phone_delay = no_phone_delay_sec
        self._clock = clock or SystemClock()
        self._phones: dict[str, SimulatedPhone] = {}
        self._tasks = TaskOwner("simulator")

    def register(self, registration: PhoneRegister) -> SimulatedPhone:
        """Attaches a phone; one live registration per number."""
        number = parse_e164(registration.number, "register.number")
        if registration.mode is PhoneMode.VOICE and registration.sample_rate not in (
            0,
            *SAMPLE_RATES,
        ):
            raise InvalidArgument("register.sample_rate must be 8000 or 16000 (0: 8000)")
        if not 0 <= registration.speed <= MAX_SPEED:
            raise InvalidArgument(f"register.speed must be between 1 and {MAX_SPEED:g} (0: 1)")
        if number in self._phones:
            raise AlreadyExists(
                "a phone is already registered with this number; close its stream first"
            )
        phone = SimulatedPhone(
            PhoneRegister(
                number=number,
                mode=registration.mode,
                sample_rate=registration.sample_rate,
                auto_answer=registration.auto_answer,
                speed=max(1.0, registration.speed),
            ),
            self,
        )
        self._phones[number] = phone
        log.info("phone registered", extra={"mode": phone.mode.value, "pii_number": number})
        return phone

    def unregister(self, phone: SimulatedPhone) -> None:
        """Releases the phone's number; harmless when it was released already."""
        phone.close()
        if self._phones.get(phone.number) is phone:
            del self._phones[phone.number]
            log.info("phone unregistered", extra={"pii_number": phone.number})

    async def dial(self, call_id: str, to_number: str) -> Ring:
        phone = self._phones.get(to_number)
        if phone is None:
            ring = Ring(call_id, ringing=False)
            self._fail_later(ring, "no_answer")
            return ring
        if phone.busy:
            ring = Ring(call_id, ringing=False)
            ring.fail("busy")
            return ring
        return phone.ring(call_id, self.bot_number)

    def _fail_later(self, ring: Ring, reason: str) -> None:
        async def fail() -> None:
            await self._clock.sleep(self._no_phone_delay)
            ring.fail(reason)

        self._tasks.spawn(fail(), f"fail-{ring.call_id}")

    async def close(self) -> None:
        await self._tasks.close()
        for phone in list(self._phones.values()):
            self.unregister(phone)
