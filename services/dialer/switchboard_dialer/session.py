"""``CallSession``: one call, from the answer (or, for voice, the dial) to the hang-up.

Text lines: caller turns arrive whole from the line, and bot sentences go to the
line as text. Voice lines: a :class:`VoicePipeline` turns caller audio into turns
(``Speech.Listen``) and sentences into paced audio (``Speech.Speak``, playout,
barge-in); a turn counts as done when its last frame was played, not when the
brain finished it.

Greeting while ringing: for a ring that will be a voice line, :meth:`prepare`
opens ``Brain.Converse`` and ``Speech.Speak`` at dial time, so the greeting's
audio is waiting when the callee answers. If the callee never answers, the
brain is told the greeting was not heard (``heard{text: "", interrupted}``), so
the stored history keeps it only as an empty, interrupted agent message.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from switchboard import domain
from switchboard.clock import Clock, SystemClock
from switchboard.config import DialerSettings
from switchboard.converse import (
    AgentSentence,
    AgentTransfer,
    AgentTurnDone,
    CallerHangup,
    CallTimeUp,
    ConverseRequest,
    ConverseResponse,
    Dtmf,
    EndCallRequest,
    SilenceTimeout,
    SmsRequest,
    SpeechSettings,
    UserTurn,
)
from switchboard.errors import FailedPrecondition, SwitchboardError
from switchboard.features import FeatureFlags
from switchboard.phones import parse_e164
from switchboard_dialer.brain_link import BrainLink
from switchboard_dialer.media.voice import VoiceConfig, VoicePipeline
from switchboard_dialer.ports import BrainPort, CallStore, Sleep, SpeechPort
from switchboard_dialer.sms.base import SmsProvider
from switchboard_dialer.tasks import cancel_and_wait
from switchboard_dialer.telephony.base import CallerDtmf, CallerGone, CallerSaid, PhoneLine

log = logging.getLogger(__name__)

# How long a caller's hang-up may wait for the brain to hear about it.
HANGUP_FLUSH_SEC = 2.0
# How long the brain may take to say its goodbye when the call reached its maximum
# duration; then the call ends anyway (brain away, or the caller talked over it).
TIME_UP_GRACE_SEC = 20.0


class LineAction(StrEnum):
    HANG_UP = "hang_up"  # the bot ends the call
    TRANSFER = "transfer"  # the caller goes to a human
    NONE = "none"  # the caller is gone already


@dataclass(frozen=True)
class Ending:
    """How the call ends: the reason stored with ENDED, and what to do with the line."""

    reason: str
    action: LineAction = LineAction.HANG_UP
    target: str = ""


class CallSession:
    """Runs one connected call: relays between the line and the brain, keeps the timers."""

    def __init__(
        self,
        call: domain.Call,
        brain: BrainPort,
        store: CallStore,
        sms: SmsProvider,
        flags: FeatureFlags,
        settings: DialerSettings,
        speech: SpeechPort | None = None,
        sleep: Sleep = asyncio.sleep,
        link_sleep: Sleep = asyncio.sleep,
        media_clock: Clock | None = None,
        media_sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.call = call
        self.call_id = call.call_id
        self._line: PhoneLine | None = None
        self._speech = speech
        self._media_clock = media_clock or SystemClock()
        self._media_sleep = media_sleep
        self.voice: VoicePipeline | None = None
        self._store = store
        self._sms = sms
        self._flags = flags
        self._settings = settings
        self._sleep = sleep
        self._link = BrainLink(
            brain, call.call_id, self._on_brain_event, settings.reconnect_timeout_sec, link_sleep
        )
        self._ending: asyncio.Future[Ending] = asyncio.get_running_loop().create_future()
        # Per agent turn, the highest sentence index delivered: a re-emitted turn
        # (after a brain reconnect) never reaches the caller twice.
        self._delivered: dict[str, int] = {}
        self._done_turns: set[str] = set()
        # An end_call or transfer waiting for its turn to be delivered in full.
        self._after_turn: dict[str, Ending] = {}
        # Text messages a turn asked for, sent once it was delivered in full.
        self._sms_after_turn: dict[str, list[SmsRequest]] = {}
        self._silence_task: asyncio.Task[None] | None = None
        self._silence_count = 0
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def brain_reconnects(self) -> int:
        return self._link.reconnects

    @property
    def line(self) -> PhoneLine:
        if self._line is None:
            raise FailedPrecondition("the call is not connected yet")
        return self._line

    def prepare(self, sample_rate: int = 0) -> None:
        """Starts the conversation before the answer; for a voice line, synthesis too."""
        if self._tasks:
            return
        if sample_rate and self.voice is None:
            self.voice = self._new_voice(sample_rate)
        self._spawn(self._link.run(), "brain")
        if self.voice is not None:
            self._spawn(self.voice.run_speak(), "speech", "speak")

    async def run(self, line: PhoneLine) -> str:
        """Runs the connected call until it ends; returns the end reason."""
        self._line = line
        if line.is_voice and self.voice is None and not self._tasks:
            self.voice = self._new_voice(line.sample_rate)
        self.prepare()
        self._spawn(self._caller_loop(), "caller")
        self._spawn(self._max_duration(), "timer", "max")
        if self.voice is not None:
            self._spawn(self.voice.run_line(line), "speech", "media")
        try:
            ending = await self._ending
        finally:
            await cancel_and_wait([*self._tasks, *self._silence_tasks()])
        reason = await self._carry_out(ending)
        log.info("call session ended", extra={"call_id": self.call_id, "reason": reason})
        return reason

    async def abandon(self) -> None:
        """The prepared call was never answered: tell the brain nothing was heard, stop."""
        if self.voice is not None:
            for report in self.voice.unheard_reports():
                self._link.send(report)
        if self._tasks and not await self._link.flush(HANGUP_FLUSH_SEC):
            log.warning("brain not told of the unheard greeting", extra={"call_id": self.call_id})
        self._finish(Ending(reason="not_answered", action=LineAction.NONE))
        await cancel_and_wait(self._tasks)

    def _new_voice(self, sample_rate: int) -> VoicePipeline:
        if self._speech is None:
            raise FailedPrecondition("voice lines need the speech service; none is configured")
        initiate = self.call.initiate
        config = VoiceConfig(
            sample_rate=sample_rate,
            voice=initiate.voice,
            lang=self.call.lang or initiate.lang or "en-US",
            prosody_rate=initiate.prosody_rate or 1.0,
        )
        return VoicePipeline(
            self.call_id,
            config,
            self._speech,
            self,
            self._settings.reconnect_timeout_sec,
            self._media_clock,
            self._media_sleep,
        )

    def _spawn(self, work: Coroutine[Any, Any, None], part: str, name: str = "") -> None:
        """A named task of this call; ``part`` says which failure reason it ends the call with."""
        task_name = f"call-{self.call_id}-{name or part}"
        self._tasks.append(asyncio.create_task(self._guard(work, part), name=task_name))

    # Requests from outside (Dialer.HangUp, Dialer.Transfer, shutdown).

    def end(self, reason: str) -> None:
        """Hangs up from the bot's side."""
        self._finish(Ending(reason=reason))

    def transfer(self, target: str) -> None:
        self._finish(Ending(reason="transferred", action=LineAction.TRANSFER, target=target))

    @property
    def ended(self) -> bool:
        return self._ending.done()

    # Internals.

    def _finish(self, ending: Ending) -> None:
        if not self._ending.done():
            self._ending.set_result(ending)

    async def _guard(self, work: Coroutine[Any, Any, None], part: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except SwitchboardError as exc:
            log.warning(
                "call part failed, ending the call",
                extra={"call_id": self.call_id, "part": part, "error": exc.message},
            )
            reason = {"brain": "brain_unavailable", "speech": "speech_unavailable"}
            self._finish(Ending(reason=reason.get(part, "error")))
        except Exception:
            log.exception(
                "call part crashed, ending the call", extra={"call_id": self.call_id, "part": part}
            )
            self._finish(Ending(reason="error"))

    async def _carry_out(self, ending: Ending) -> str:
        """Does what the ending asks of the line; returns the reason the call ended with."""
        if ending.action is LineAction.TRANSFER:
            try:
                await self._store.set_call_state(
                    self.call_id, domain.CallState.TRANSFERRING, "transfer"
                )
            except SwitchboardError as exc:
                log.warning(
                    "transferring state not stored",
                    extra={"call_id": self.call_id, "error": exc.message},
                )
            try:
                await self.line.transfer(ending.target)
            except SwitchboardError as exc:
                # The caller is still on the line and nobody runs the call any more:
                # hang up rather than leave them in silence.
                log.warning(
                    "transfer failed, hanging up",
                    extra={"call_id": self.call_id, "error": exc.message},
                )
                await self.line.hang_up("transfer_failed")
                return "transfer_failed"
        elif ending.action is LineAction.HANG_UP:
            await self.line.hang_up(ending.reason)
        return ending.reason

    # Caller events: whole turns (text lines), touch tones and the hang-up. A voice
    # line's turns come from the VoicePipeline (VoiceHost methods below).
    async def _caller_loop(self) -> None:
        while True:
            event = await self.line.next_event()
            match event:
                case CallerSaid(text=text):
                    self._caller_active()
                    self._link.send(UserTurn(turn_id=str(uuid.uuid4()), text=text))
                case CallerDtmf(digits=digits):
                    self._caller_active()
                    self._link.send(Dtmf(digits=digits))
                case CallerGone(reason=reason):
                    self._disarm_silence()
                    self._link.send(CallerHangup(reason=reason))
                    if not await self._link.flush(HANGUP_FLUSH_SEC):
                        log.warning(
                            "brain not told of the hang-up", extra={"call_id": self.call_id}
                        )
                    self._finish(Ending(reason=reason, action=LineAction.NONE))
                    return

    async def _on_brain_event(self, event: ConverseResponse) -> None:
        match event:
            case AgentSentence():
                await self._deliver(event)
            case AgentTurnDone(turn_id=turn_id):
                if self.voice is not None:
                    self.voice.turn_done(turn_id)  # done once played: see turn_played
                else:
                    await self._turn_finished(turn_id)
            case EndCallRequest(turn_id=turn_id, reason=reason):
                self._when_turn_done(turn_id, Ending(reason=reason or "bot_hangup"))
            case AgentTransfer(turn_id=turn_id, target=target):
                target = await self._transfer_target(target)
                if target:
                    self._when_turn_done(
                        turn_id,
                        Ending(reason="transferred", action=LineAction.TRANSFER, target=target),
                    )
            case SmsRequest(turn_id=turn_id):
                if turn_id and turn_id not in self._done_turns:
                    self._sms_after_turn.setdefault(turn_id, []).append(event)
                else:
                    await self._send_sms(event)
            case SpeechSettings(lang=lang, prosody_rate=rate):
                if self.voice is not None:
                    await self.voice.change_speech(lang, rate)

    async def _deliver(self, sentence: AgentSentence) -> None:
        """Text lines: the sentence as text. Voice lines: queued for synthesis and playout."""
        self._disarm_silence()
        if not sentence.filler:
            if sentence.index <= self._delivered.get(sentence.turn_id, -1):
                return
            self._delivered[sentence.turn_id] = sentence.index
        if self.voice is not None:
            self.voice.say(sentence)
        else:
            await self.line.say(sentence.turn_id, sentence.text)

    async def _turn_finished(self, turn_id: str) -> None:
        """The caller got the whole turn (text: sent; voice: played)."""
        if turn_id not in self._done_turns:
            self._done_turns.add(turn_id)
            if self._line is not None:
                await self._line.turn_done(turn_id)
            self._arm_silence()
        for sms in self._sms_after_turn.pop(turn_id, []):
            await self._send_sms(sms)
        pending = self._after_turn.pop(turn_id, None)
        if pending is not None:
            self._finish(pending)

    # VoiceHost: what the voice pipeline reports.

    def send_to_brain(self, request: ConverseRequest) -> None:
        self._link.send(request)

    def caller_speaking(self) -> None:
        self._disarm_silence()

    def caller_turn(self, text: str, confidence: float, lang: str) -> None:
        self._caller_active()
        turn = UserTurn(turn_id=str(uuid.uuid4()), text=text, confidence=confidence, lang=lang)
        self._link.send(turn)

    def caller_quiet(self) -> None:
        bot_idle = self.voice is None or self.voice.speaking_turn is None
        if bot_idle and not self._link.awaiting_answer:
            self._arm_silence()

    async def turn_played(self, turn_id: str) -> None:
        await self._turn_finished(turn_id)

    def turn_cancelled(self, turn_id: str) -> None:
        self._done_turns.add(turn_id)
        # The caller interrupted: the turn's end_call or transfer does not run
        # ("wait!" over the goodbye keeps the call).
        self._sms_after_turn.pop(turn_id, None)
        if self._after_turn.pop(turn_id, None) is not None:
            log.info(
                "turn's ending dropped: the caller interrupted", extra={"call_id": self.call_id}
            )

    async def _send_sms(self, sms: SmsRequest) -> None:
        try:
            await self._sms.send(self.call_id, parse_e164(sms.to, "sms.to"), sms.text)
        except SwitchboardError as exc:
            log.warning("sms not sent", extra={"call_id": self.call_id, "error": exc.message})

    def _when_turn_done(self, turn_id: str, ending: Ending) -> None:
        if not turn_id or turn_id in self._done_turns:
            self._finish(ending)
        else:
            self._after_turn[turn_id] = ending

    async def _transfer_target(self, target: str) -> str:
        candidate = target or self.call.initiate.agent_phone_number
        try:
            return parse_e164(candidate, "transfer.target")
        except SwitchboardError:
            log.warning(
                "transfer ignored: no valid target",
                extra={"call_id": self.call_id, "pii_target": candidate},
            )
            return ""

    # Timers. Every wait goes through the injected sleep, so tests move time by hand.

    def _caller_active(self) -> None:
        self._silence_count = 0
        self._disarm_silence()

    def _arm_silence(self) -> None:
        self._disarm_silence()
        if self.ended:
            return
        self._silence_task = asyncio.create_task(
            self._silence_after(self._flags.current.phone_silence_timeout_sec),
            name=f"call-{self.call_id}-silence",
        )

    def _disarm_silence(self) -> None:
        if self._silence_task is not None:
            self._silence_task.cancel()
            self._silence_task = None

    def _silence_tasks(self) -> list[asyncio.Task[None]]:
        return [self._silence_task] if self._silence_task is not None else []

    async def _silence_after(self, timeout_sec: float) -> None:
        await self._sleep(timeout_sec)
        self._silence_task = None
        self._silence_count += 1
        log.info("caller silent", extra={"call_id": self.call_id, "count": self._silence_count})
        self._link.send(SilenceTimeout(count=self._silence_count))

    async def _max_duration(self) -> None:
        await self._sleep(self._settings.max_call_duration_sec)
        log.info("call reached its maximum duration", extra={"call_id": self.call_id})
        self._disarm_silence()
        # The brain says and stores the goodbye, then asks to end the call (the
        # transcript has one writer); this is the limit if that does not happen.
        self._link.send(CallTimeUp())
        await self._sleep(TIME_UP_GRACE_SEC)
        self._finish(Ending(reason="max_duration"))
