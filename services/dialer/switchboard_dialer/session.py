"""``CallSession``: one call, from the answer (or, for voice, the dial) to the hang-up.

The session relays between the line and ``Brain.Converse`` and keeps the call's
timers. The bot's words go to one :class:`CallOutput`: a :class:`TextOutput` on a
text line (caller turns arrive whole from the line), a :class:`VoicePipeline` on
a voice line (it turns caller audio into turns with ``Speech.Listen`` and
sentences into paced audio with ``Speech.Speak``, playout and barge-in). The
output reports back through typed media events; a turn counts as done when the
caller got all of it (its last frame played), not when the brain finished it.

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
from typing import Any

from switchboard import domain
from switchboard.clock import Clock, SystemClock
from switchboard.config import DialerSettings
from switchboard.converse import (
    AgentSendDtmf,
    AgentSentence,
    AgentTransfer,
    AgentTurnDone,
    CallerHangup,
    CallTimeUp,
    CancelAgentTurn,
    ConverseResponse,
    EndCallRequest,
    ExpectAnswer,
    PlayoutReport,
    SilenceTimeout,
    SmsRequest,
    SpeechSettings,
    UserTurn,
)
from switchboard.errors import FailedPrecondition, SwitchboardError
from switchboard.features import FeatureFlags
from switchboard.phones import national_digits, parse_e164
from switchboard.tasks import TaskOwner, Timer
from switchboard_dialer.brain_link import BrainLink
from switchboard_dialer.ending import Ending, LineAction, carry_out
from switchboard_dialer.keypad import KeypadEntry
from switchboard_dialer.media.events import (
    AnsweringMachine,
    CallerQuiet,
    CallerStartedSpeaking,
    CallerTurn,
    MediaEvent,
    MessageCue,
    TurnInterrupted,
    TurnPlayed,
)
from switchboard_dialer.media.recorder import CallRecorder
from switchboard_dialer.media.voice import VoiceConfig, VoicePipeline
from switchboard_dialer.output import CallOutput, TextOutput
from switchboard_dialer.ports import BrainPort, CallStore, SpeechPort
from switchboard_dialer.recording import CallRecordings
from switchboard_dialer.sms.base import SmsProvider
from switchboard_dialer.telephony.base import CallerDtmf, CallerGone, CallerSaid, PhoneLine
from switchboard_dialer.turn_trace import TurnTrace
from switchboard_dialer.voicemail import (
    VOICEMAIL,
    answered_by_line,
    is_screened,
    message_left_line,
    screen_for,
    sounds_like_voicemail,
    voicemail_message,
)

log = logging.getLogger(__name__)

# The longest a caller's utterance is waited for once they started speaking: past it
# (plus the silence timeout) with no final transcript, the caller is asked if still there.
UTTERANCE_MAX_SEC = 30.0

# How long a caller's hang-up may wait for the brain to hear about it.
HANGUP_FLUSH_SEC = 2.0
# How long the brain may take to say its goodbye when the call reached its maximum
# duration; then the call ends anyway (brain away, or the caller talked over it).
TIME_UP_GRACE_SEC = 20.0
# Said when the carrier could not put the caller through; the call goes on. A turn of
# the dialer's own (the brain ignores reports on turns it never stored); a filler-only
# turn would never end on a voice line, as its sentences play under negative indexes.
TRANSFER_FAILED_LINE = "I'm sorry, I couldn't reach a colleague right now. Let's continue."


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
        clock: Clock | None = None,
        sends_dtmf: bool = False,
        recordings: CallRecordings | None = None,
    ) -> None:
        self.call = call
        self.call_id = call.call_id
        self._line: PhoneLine | None = None
        self._speech = speech
        self._clock = clock or SystemClock()
        # Chosen at dial time for a ring that will be a voice line, else at the answer.
        self._output: CallOutput | None = None
        self._store = store
        self._sms = sms
        self._flags = flags
        self._settings = settings
        self._link = BrainLink(
            brain,
            call.call_id,
            self._on_brain_event,
            settings.reconnect_timeout_sec,
            self._clock,
            sends_dtmf=sends_dtmf,
        )
        self._ending: asyncio.Future[Ending] = asyncio.get_running_loop().create_future()
        # Per agent turn, the highest sentence index delivered: a re-emitted turn
        # (after a brain reconnect) never reaches the caller twice.
        self._delivered: dict[str, int] = {}
        self._done_turns: set[str] = set()
        # An end_call or transfer waiting for its turn to be delivered in full.
        self._after_turn: dict[str, Ending] = {}
        # Text messages and key presses a turn asked for, done once it was delivered in full.
        self._after_turn_requests: dict[str, list[SmsRequest | AgentSendDtmf]] = {}
        self._silence_timer = Timer(
            f"call-{self.call_id}-silence", self._caller_silent, self._clock
        )
        self._silence_count = 0
        self._keypad = KeypadEntry(self.call_id, self._keys_typed, flags, self._clock)
        self._tasks = TaskOwner(f"call-{self.call_id}")
        self._started = False
        self._turn_trace = TurnTrace(self.call_id, self._clock)
        self._transferring = False
        self._time_up = False  # the brain was asked for the last goodbye
        self._recordings = recordings
        self._recorder: CallRecorder | None = None
        self._machine = False  # an answering machine answered: the brain's turns are not said
        self._caller_wrote = False  # a text line's caller sent a line already

    @property
    def brain_reconnects(self) -> int:
        return self._link.reconnects

    @property
    def line(self) -> PhoneLine:
        if self._line is None:
            raise FailedPrecondition("the call is not connected yet")
        return self._line

    @property
    def output(self) -> CallOutput:
        if self._output is None:
            raise FailedPrecondition("the call has no output yet")
        return self._output

    @property
    def voice(self) -> VoicePipeline | None:
        """The voice pipeline, on a voice line (benchmarks read its playout)."""
        return self._output if isinstance(self._output, VoicePipeline) else None

    def prepare(self, sample_rate: int = 0) -> None:
        """Starts the conversation before the answer; for a voice line, synthesis too."""
        if self._started:
            return
        self._started = True
        if sample_rate and self._output is None:
            self._output = self._voice_output(sample_rate)
        self._spawn(self._link.run(), "brain")
        if self._output is not None:
            self._spawn(self._output.prepare(), "speech", "speak")

    async def run(self, line: PhoneLine) -> str:
        """Runs the connected call until it ends; returns the end reason."""
        self._line = line
        if self._output is None and not self._started:
            self._output = (
                self._voice_output(line.sample_rate)
                if line.is_voice
                else TextOutput(line, self._on_media_event)
            )
        self._turn_trace.measure_answer = isinstance(self._output, TextOutput)
        if self._recordings is not None and isinstance(self._output, VoicePipeline):
            self._recorder = self._recordings.start(self.call, line)
            if self._recorder is not None:
                self._output.record(self._recorder)
        self.prepare()
        self._spawn(self._caller_loop(), "caller")
        self._spawn(self._max_duration(), "timer", "max")
        self._spawn(self.output.run(line), "speech", "media")
        try:
            ending = await self._ending
        finally:
            await self._tasks.close()
            await self._silence_timer.close()
            await self._keypad.close()
            self._turn_trace.close()
        reason = await carry_out(ending, self.line, self._store, self.call_id)
        log.info("call session ended", extra={"call_id": self.call_id, "reason": reason})
        return reason

    async def store_recording(self) -> None:
        """The ended call's recording to the blob store (when it was recorded)."""
        recorder, self._recorder = self._recorder, None
        if recorder is not None and self._recordings is not None:
            await self._recordings.store(self.call, recorder)

    async def abandon(self) -> None:
        """The prepared call was never answered: tell the brain nothing was heard, stop."""
        if self._output is not None:
            for report in self._output.unheard():
                self._link.send(report)
        if self._started and not await self._link.flush(HANGUP_FLUSH_SEC):
            log.warning("brain not told of the unheard greeting", extra={"call_id": self.call_id})
        self._finish(Ending(reason="not_answered", action=LineAction.NONE))
        await self._tasks.close()

    def _voice_output(self, sample_rate: int) -> VoicePipeline:
        if self._speech is None:
            raise FailedPrecondition("voice lines need the speech service; none is configured")
        initiate = self.call.initiate
        lang = self.call.lang or initiate.lang or "en-US"
        config = VoiceConfig(
            sample_rate=sample_rate,
            voice=initiate.voice_for(lang),  # lang.availables names a voice per language
            lang=lang,
            prosody_rate=initiate.prosody_rate or 1.0,
        )
        return VoicePipeline(
            self.call_id,
            config,
            self._speech,
            self._on_media_event,
            self._settings.reconnect_timeout_sec,
            self._clock,
            screen=screen_for(self.call, self._settings.voicemail, sample_rate),
        )

    def _spawn(self, work: Coroutine[Any, Any, None], part: str, name: str = "") -> None:
        """A named task of this call; ``part`` says which failure reason it ends the call with."""
        self._tasks.spawn(self._guard(work, part), name or part)

    # Requests from outside (Dialer.HangUp, Dialer.Transfer, shutdown).

    def end(self, reason: str) -> None:
        """Hangs up from the bot's side."""
        self._finish(Ending(reason=reason))

    def transfer(self, target: str) -> None:
        self._settle(Ending(reason="transferred", action=LineAction.TRANSFER, target=target))

    @property
    def ended(self) -> bool:
        return self._ending.done()

    # Internals.

    def _settle(self, ending: Ending) -> None:
        """An ending the bot asked for. A transfer is tried while the call runs: when the
        carrier refuses it the caller hears so and the call goes on."""
        if ending.action is not LineAction.TRANSFER:
            self._finish(ending)
        elif not self._transferring and not self.ended:
            self._transferring = True
            self._spawn(self._transfer_or_go_on(ending.target), "transfer")

    async def _transfer_or_go_on(self, target: str) -> None:
        await self._record_state(domain.CallState.TRANSFERRING, "transfer")
        try:
            await self.line.transfer(target)
        except SwitchboardError as exc:
            log.warning(
                "transfer failed; the call goes on",
                extra={"call_id": self.call_id, "error": exc.message},
            )
            await self._record_state(domain.CallState.IN_PROGRESS, "transfer_failed")
            turn_id = f"transfer-failed-{uuid.uuid4()}"
            await self.output.say(AgentSentence(turn_id, 0, TRANSFER_FAILED_LINE))
            await self.output.finish_turn(turn_id)
            return
        finally:
            self._transferring = False
        self._finish(Ending(reason="transferred", action=LineAction.NONE))

    async def _record_state(self, state: domain.CallState, reason: str) -> None:
        try:
            await self._store.set_call_state(self.call_id, state, reason)
        except SwitchboardError as exc:
            log.warning(
                "call state not stored",
                extra={"call_id": self.call_id, "state": state.value, "error": exc.message},
            )

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

    # Caller events: whole turns (text lines), touch tones (collected into keypad turns)
    # and the hang-up. A voice line's spoken turns come from its VoicePipeline, as media
    # events (below).
    async def _caller_loop(self) -> None:
        while True:
            event = await self.line.next_event()
            match event:
                case CallerSaid(text=text):
                    self._caller_active()
                    if await self._machine_wrote(text):
                        continue
                    self._send_turn(UserTurn(turn_id=str(uuid.uuid4()), text=text))
                case CallerDtmf(digits=digits):
                    self._caller_active()
                    self._keypad.press(digits)
                case CallerGone(reason=reason):
                    self._keypad.submit()  # what was typed before the hang-up is kept
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
                await self.output.finish_turn(turn_id)  # finished once TurnPlayed comes
            case EndCallRequest(turn_id=turn_id, reason=reason):
                self._when_turn_done(turn_id, Ending(reason=reason or "bot_hangup"))
            case AgentTransfer(turn_id=turn_id, target=target):
                target = await self._transfer_target(target)
                if target:
                    self._when_turn_done(
                        turn_id,
                        Ending(reason="transferred", action=LineAction.TRANSFER, target=target),
                    )
            case SmsRequest(turn_id=turn_id) | AgentSendDtmf(turn_id=turn_id):
                if turn_id and turn_id not in self._done_turns:
                    self._after_turn_requests.setdefault(turn_id, []).append(event)
                else:
                    await self._carry_out(event)
            case SpeechSettings(lang=lang, prosody_rate=rate):
                voice = self.call.initiate.voice_for(lang) if lang else ""
                await self.output.change_speech(lang, rate, voice)
            case ExpectAnswer(answer=answer):
                await self.output.expect(answer)
                typed_number = answer.type is domain.ClaimFieldType.PHONE_NUMBER
                self._keypad.expect_digits(national_digits(answer.region) if typed_number else None)

    async def _deliver(self, sentence: AgentSentence) -> None:
        """The sentence to the output, once (a filler every time it comes)."""
        if self._machine:
            return  # the bot's questions are for a person, not an answering machine
        self._disarm_silence()
        if not sentence.filler:
            if sentence.index <= self._delivered.get(sentence.turn_id, -1):
                return
            self._delivered[sentence.turn_id] = sentence.index
        self._turn_trace.sentence_out(sentence.turn_id)
        await self.output.say(sentence)

    def _keys_typed(self, digits: str) -> None:
        """A complete keypad entry: one caller turn, marked as typed."""
        self._send_turn(UserTurn(turn_id=str(uuid.uuid4()), text=digits, keypad=True))

    def _send_turn(self, turn: UserTurn) -> None:
        self._turn_trace.caller_turn(turn.turn_id)
        self._link.send(turn)

    async def _turn_played(self, turn_id: str) -> None:
        """The caller got the whole turn (text: sent; voice: played)."""
        self._turn_trace.agent_turn_ended(turn_id, "played")
        if turn_id not in self._done_turns:
            self._done_turns.add(turn_id)
            if self._line is not None:
                await self._line.turn_done(turn_id)
            self._arm_silence()
        for request in self._after_turn_requests.pop(turn_id, []):
            await self._carry_out(request)
        pending = self._after_turn.pop(turn_id, None)
        if pending is not None:
            self._settle(pending)

    def _turn_interrupted(self, turn_id: str, heard: str, spoken: bool) -> None:
        """The caller talked over the turn: the brain stops deciding it and hears what
        was played; its end_call, transfer, text messages and key presses do not run
        ("wait!" over the goodbye keeps the call)."""
        self._turn_trace.agent_turn_ended(turn_id, "interrupted")
        self._link.send(CancelAgentTurn(turn_id))
        if spoken:  # the brain stores only what the caller heard
            self._link.send(PlayoutReport(turn_id, heard, interrupted=True))
        self._done_turns.add(turn_id)
        self._after_turn_requests.pop(turn_id, None)
        if self._after_turn.pop(turn_id, None) is not None:
            log.info(
                "turn's ending dropped: the caller interrupted", extra={"call_id": self.call_id}
            )

    async def _carry_out(self, request: SmsRequest | AgentSendDtmf) -> None:
        if isinstance(request, SmsRequest):
            await self._send_sms(request)
        else:
            await self._press_keys(request.digits)

    async def _press_keys(self, digits: str) -> None:
        """The bot presses keys (a menu); a line that cannot is logged, the call goes on."""
        try:
            await self.line.send_dtmf(digits)
        except SwitchboardError as exc:
            log.warning(
                "touch tones not sent",
                extra={"call_id": self.call_id, "error": exc.message, "pii_digits": digits},
            )

    async def _send_sms(self, sms: SmsRequest) -> None:
        try:
            await self._sms.send(self.call_id, parse_e164(sms.to, "sms.to"), sms.text)
        except SwitchboardError as exc:
            log.warning("sms not sent", extra={"call_id": self.call_id, "error": exc.message})

    # What the output reports (text lines: turns delivered; voice lines: the caller's
    # speech and the playout too).

    async def _on_media_event(self, event: MediaEvent) -> None:
        match event:
            case CallerStartedSpeaking():
                # Not off for good: an utterance whose final transcript is lost (and no
                # replay recovers) would leave the bot mute. A final transcript disarms it.
                self._arm_silence(UTTERANCE_MAX_SEC)
            case CallerTurn(text=text, confidence=confidence, lang=lang):
                self._caller_active()
                turn_id = str(uuid.uuid4())
                self._send_turn(UserTurn(turn_id, text, confidence=confidence, lang=lang))
            case CallerQuiet():
                if not self.output.speaking and not self._link.awaiting_answer:
                    self._arm_silence()
            case TurnPlayed(turn_id=turn_id):
                await self._turn_played(turn_id)
            case TurnInterrupted(turn_id=turn_id, heard=heard, spoken=spoken):
                self._turn_interrupted(turn_id, heard, spoken)
            case AnsweringMachine(dropped=dropped):
                await self._machine_answered(dropped)
            case MessageCue():
                await self._leave_message()

    # Answering machines (outbound voice calls; see ``voicemail``).

    async def carrier_answered_by(self, answered_by: str) -> None:
        """The carrier's answering-machine detection, for the held answer."""
        voice = self.voice
        if voice is not None and voice.gate is not None:
            await voice.gate.carrier(answered_by)

    async def _machine_answered(self, dropped: tuple[str, ...]) -> None:
        """The greeting was never heard; nothing the brain says is played from now on."""
        self._machine = True
        self._disarm_silence()
        for turn_id in dropped:
            self._turn_interrupted(turn_id, "", spoken=True)
        await self._note([answered_by_line("machine")])

    async def _machine_wrote(self, text: str) -> bool:
        """A text line's first words: an answering machine's greeting, on an outbound call?"""
        first, self._caller_wrote = not self._caller_wrote, True
        if not first or self._machine or not is_screened(self.call, self._settings.voicemail):
            return False
        if not sounds_like_voicemail(text):
            return False
        await self._machine_answered(())
        await self._leave_message()
        return True

    async def _leave_message(self) -> None:
        text = voicemail_message(self.call.initiate, self._settings.voicemail)
        turn_id = f"voicemail-{uuid.uuid4()}"
        await self._note([message_left_line(text)])
        self._after_turn[turn_id] = Ending(reason=VOICEMAIL)
        await self.output.say(AgentSentence(turn_id, 0, text))
        await self.output.finish_turn(turn_id)

    async def _note(self, messages: list[domain.Message]) -> None:
        """Lines of the dialer's own in the transcript; a store error loses only them."""
        try:
            await self._store.append_messages(self.call_id, messages)
        except SwitchboardError as exc:
            log.warning(
                "voicemail lines not stored", extra={"call_id": self.call_id, "error": exc.message}
            )

    def _when_turn_done(self, turn_id: str, ending: Ending) -> None:
        if not turn_id or turn_id in self._done_turns:
            self._settle(ending)
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

    # Timers. Every wait goes through the injected clock, so tests move time by hand.

    def _caller_active(self) -> None:
        self._silence_count = 0
        self._disarm_silence()

    def _arm_silence(self, extra_sec: float = 0.0) -> None:
        if self.ended:
            self._silence_timer.disarm()
        else:
            self._silence_timer.arm(self._flags.current.phone_silence_timeout_sec + extra_sec)

    def _disarm_silence(self) -> None:
        self._silence_timer.disarm()

    def _caller_silent(self) -> None:
        self._silence_count += 1
        log.info("caller silent", extra={"call_id": self.call_id, "count": self._silence_count})
        self._link.send(SilenceTimeout(count=self._silence_count))

    async def _max_duration(self) -> None:
        await self._clock.sleep(self._settings.max_call_duration_sec)
        log.info("call reached its maximum duration", extra={"call_id": self.call_id})
        self.time_up("max_duration")

    def time_up(self, reason: str, grace_sec: float = TIME_UP_GRACE_SEC) -> None:
        """Ends the call politely: the brain says and stores a goodbye, then asks to end
        the call with ``reason`` (the transcript has one writer); after ``grace_sec``
        the call ends with ``reason`` anyway (brain away, or the caller talked over it)."""
        if self.ended or self._time_up:
            return
        self._time_up = True
        self._disarm_silence()
        self._link.send(CallTimeUp(reason))
        self._spawn(self._end_after(reason, grace_sec), "timer", "time-up")

    async def _end_after(self, reason: str, grace_sec: float) -> None:
        await self._clock.sleep(grace_sec)
        self._finish(Ending(reason=reason))
