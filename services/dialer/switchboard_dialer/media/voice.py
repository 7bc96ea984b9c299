"""``VoicePipeline``: the media side of one voice call.

Brain sentences go to ``Speak`` tagged with their turn and index; their audio
queues in the :class:`Playout`, which paces it to the line. Caller frames go
from the line to ``Listen``; a final transcript becomes a caller turn, and
``speech_started`` while the bot talks holds playout (see ``barge_in_state``).
The pipeline reports to its session only through typed events (``events``).

Speak runs from the moment the call is placed (the greeting is synthesised
while the phone rings and waits in the playout queue); Listen and playout run
from the answer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

from switchboard.clock import Clock
from switchboard.converse import AgentSentence, PlayoutReport
from switchboard.media import FRAME_MS, ExpectedAnswer
from switchboard.speech import (
    CancelTurn,
    ListenConfig,
    ListenResponse,
    SpeakConfig,
    SpeakResponse,
    SpeakSettings,
    SpeakText,
    SpeechAudio,
    SpeechEnded,
    SpeechStarted,
    Transcript,
)
from switchboard.telemetry_metrics import ANSWER_LATENCY, CUTOFF_LATENCY, FRAMES_OUT_LATENCY
from switchboard_dialer.media.answer_gate import AnswerGate
from switchboard_dialer.media.answer_screen import AnswerScreen
from switchboard_dialer.media.barge_in import Verdict, has_words
from switchboard_dialer.media.barge_in_state import BargeIn
from switchboard_dialer.media.double_talk import DoubleTalk
from switchboard_dialer.media.events import (
    CallerQuiet,
    CallerStartedSpeaking,
    CallerTurn,
    Report,
    TurnInterrupted,
    TurnPlayed,
)
from switchboard_dialer.media.playout import Playout, TurnEnd
from switchboard_dialer.media.recorder import CallRecorder
from switchboard_dialer.media.speech_links import FrameSource, ListenLink, SpeakLink
from switchboard_dialer.media.voice_turns import VoiceTurns
from switchboard_dialer.output import CallOutput
from switchboard_dialer.ports import SpeechPort
from switchboard_dialer.telephony.base import PhoneLine

log = logging.getLogger(__name__)

# Frames of dropped (interrupted) turns never play; forget arrival times past this many.
MAX_TRACKED_FRAMES = 3000
# Synthesized audio comes this many 20 ms frames a Speak message at most (whatever is
# ready leaves at once): the playout queue takes it ahead of time anyway.
SPEAK_FRAMES_PER_MESSAGE = 10
# Caller frames already here go to Listen together, this many a message at most; nothing
# waits for a message to fill (the Twilio bridge delivers 60 ms at a time).
LISTEN_FRAMES_PER_MESSAGE = 5


def _db(energy: float, reference: float) -> float:
    return round(10 * math.log10(max(energy, 1e-9) / max(reference, 1e-9)), 1)


@dataclass(frozen=True)
class VoiceConfig:
    sample_rate: int
    voice: str = ""
    lang: str = "en-US"
    prosody_rate: float = 1.0


class VoicePipeline(CallOutput):
    """Speak, Listen, playout and barge-in for one call: a voice line's :class:`CallOutput`.

    It reports to its session only through typed events (``report``).
    """

    def __init__(
        self,
        call_id: str,
        config: VoiceConfig,
        speech: SpeechPort,
        report: Report,
        reconnect_timeout_sec: float,
        clock: Clock,
        screen: AnswerScreen | None = None,
    ) -> None:
        self.call_id = call_id
        self.config = config
        self._speech = speech
        self._report = report
        self._clock = clock
        self._reconnect_timeout = reconnect_timeout_sec
        self.turns = VoiceTurns()
        self.speak = SpeakLink(
            speech,
            SpeakConfig(
                call_id,
                config.sample_rate,
                config.voice,
                config.lang,
                config.prosody_rate,
                SPEAK_FRAMES_PER_MESSAGE,
            ),
            self._on_speak_event,
            self._on_resend,
            reconnect_timeout_sec,
            clock,
        )
        self.listen: ListenLink | None = None
        self._stream_start_ms = 0  # the call's media time of the Listen stream's first frame
        self.playout = Playout(self._play, self._on_played, self._on_turn_end, clock, speed=1.0)
        self._line: PhoneLine | None = None
        self._recorder: CallRecorder | None = None
        self._speaking_turn: str | None = None
        self._playing_index = 0  # the sentence of _speaking_turn being played
        self.barge_in = BargeIn(call_id, self, clock)
        self.double_talk = DoubleTalk()  # measures frames once the line is known to echo
        self._skip: dict[tuple[str, int], int] = {}
        self._caller_ended_at: float | None = None
        # The caller's turn on the system's monotonic clock, for the answer's breakdown
        # (comparable across the services' processes on one machine).
        self._ended_mono = 0.0
        self._final_mono = 0.0
        self._ended_after_ms = 0
        # When each queued frame arrived from Speak (by identity): call.frames.out.latency.
        self._arrived: dict[int, float] = {}
        self._expected: ExpectedAnswer | None = None  # the brain's latest, for Listen
        # Outbound calls: the bot holds its audio until it knows who answered.
        self.gate = (
            AnswerGate(call_id, screen, report, self._drop_unplayed) if screen is not None else None
        )

    @property
    def speaking_turn(self) -> str | None:
        """The agent turn being played (or suspended), if any."""
        return self._speaking_turn

    @property
    def speaking(self) -> bool:
        return self._speaking_turn is not None

    # Running.

    async def prepare(self) -> None:
        """From dial time: sentences to audio, queued for playout."""
        await self.speak.run()

    def record(self, recorder: CallRecorder) -> None:
        """Both sides of the call go to ``recorder`` too (set before :meth:`run`)."""
        self._recorder = recorder

    async def run(self, line: PhoneLine) -> None:
        """From the answer: playout to the line and the caller's audio to Listen."""
        self._line = line
        self.playout.set_speed(line.playout_speed)
        recorder = self._recorder
        read = line.read_frame if recorder is None else recorder.tap(line.read_frame)
        self._read_caller = self._double_talk_tap(read)
        self.listen = ListenLink(
            self._speech,
            ListenConfig(
                self.call_id, line.sample_rate, self.config.lang, LISTEN_FRAMES_PER_MESSAGE
            ),
            self._read_caller if self.gate is None else self._screened_frame,
            self._on_listen_event,
            self._on_listen_open,
            self._reconnect_timeout,
            self._clock,
        )
        if self._expected is not None:  # the greeting's question, known while ringing
            await self.listen.expect(self._expected)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._play_when_open(), name=f"call-{self.call_id}-playout")
                group.create_task(self.listen.run(), name=f"call-{self.call_id}-listen")
                if recorder is not None:
                    group.create_task(recorder.run(), name=f"call-{self.call_id}-recorder")
        finally:
            await self.barge_in.close()

    async def _play_when_open(self) -> None:
        if self.gate is not None:
            async with asyncio.TaskGroup() as group:
                watch = group.create_task(
                    self.gate.watch(self._clock), name=f"call-{self.call_id}-answer-watch"
                )
                await self.gate.opened.wait()
                watch.cancel()
        await self.playout.run()

    def _double_talk_tap(self, frames: FrameSource) -> FrameSource:
        """``frames``, each caller frame checked for the caller's voice over the echo
        (measured from the first pause for speech over the bot, see ``double_talk``)."""
        detector, barge_in = self.double_talk, self.barge_in

        async def read_checked() -> bytes | None:
            pcm = await frames()
            if pcm is None:
                return pcm
            if not detector.active:
                # The first pause for speech over the bot is the first hint of echo.
                if not (barge_in.echoing_line or barge_in.barge_ins):
                    detector.caller_frame(pcm)  # a list slot: the history to learn from
                    return pcm
                detector.start()
                log.info("measuring the echo path", extra={"call_id": self.call_id})
            learnt = detector.path
            over_echo = detector.caller_frame(pcm)
            turn = self._speaking_turn
            if over_echo and turn is not None and barge_in.echoing_line:
                if barge_in.held_turn is None:
                    energy, expected, floor = detector.onset
                    log.info(
                        "caller's voice over the echo",
                        extra={
                            "call_id": self.call_id,
                            "over_echo_db": _db(energy, expected),
                            "over_floor_db": _db(energy, floor),
                        },
                    )
                barge_in.caller_over_echo(turn)
            if detector.path is not learnt and detector.path is not None:
                log.info(
                    "echo path learnt",
                    extra={
                        "call_id": self.call_id,
                        "lag_frames": detector.path.lag,
                        "gain_db": _db(detector.path.gain, 1.0),
                        "correlation": round(detector.path.correlation, 2),
                    },
                )
            return pcm

        return read_checked

    async def _screened_frame(self) -> bytes | None:
        pcm = await self._read_caller()
        gate = self.gate
        if pcm is not None and gate is not None and not gate.screen.settled:
            await gate.frame(pcm)
        return pcm

    def _drop_unplayed(self) -> list[str]:
        """An answering machine picked up: the turns held for a person never play."""
        dropped = self.turns.unplayed()
        for turn_id in dropped:
            self.turns.cancel(turn_id)
            self.speak.send(CancelTurn(turn_id))
            self.playout.drop_turn(turn_id)
        return dropped

    # From the session.

    async def say(self, sentence: AgentSentence) -> None:
        index = self.turns.add_sentence(
            sentence.turn_id, sentence.index, sentence.text, sentence.filler
        )
        if index is not None:
            self.speak.send(SpeakText(sentence.turn_id, index, sentence.text))

    async def finish_turn(self, turn_id: str) -> None:
        if self.turns.brain_done(turn_id):
            self.playout.push(TurnEnd(turn_id))

    async def change_speech(self, lang: str, prosody_rate: float, voice: str = "") -> None:
        self.speak.send(SpeakSettings(voice=voice, lang=lang, prosody_rate=prosody_rate))
        if lang and self.listen is not None:
            await self.listen.set_lang(lang)

    async def expect(self, answer: ExpectedAnswer) -> None:
        self._expected = answer
        if self.listen is not None:
            await self.listen.expect(answer)

    def unheard(self) -> list[PlayoutReport]:
        """The call ends before the caller heard these turns (e.g. never answered)."""
        return [
            PlayoutReport(turn_id, self.turns.heard_text(turn_id), interrupted=True)
            for turn_id in self.turns.unplayed()
        ]

    # Speak.

    def _on_speak_event(self, event: SpeakResponse) -> None:
        if isinstance(event, SpeechAudio):
            if self._skip and self._skipped(event):
                return
            if self.turns.frame_received(event.turn_id, event.index):
                if len(self._arrived) > MAX_TRACKED_FRAMES:  # dropped turns' frames
                    self._arrived.clear()
                self._arrived[id(event)] = time.perf_counter()
                self.playout.push(event)
        elif self.turns.text_done(event.turn_id, event.index):
            self.playout.push(TurnEnd(event.turn_id))

    def _on_resend(self, texts: list[SpeakText]) -> None:
        """A new Speak stream renders these again: skip the frames we already have."""
        for text in texts:
            if received := self.turns.received(text.turn_id, text.index):
                self._skip[(text.turn_id, text.index)] = received

    def _skipped(self, frame: SpeechAudio) -> bool:
        key = (frame.turn_id, frame.index)
        left = self._skip.get(key, 0)
        if left <= 0:
            return False
        if left == 1:
            del self._skip[key]
        else:
            self._skip[key] = left - 1
        return True

    # Playout.

    def _play(self, pcm: bytes) -> None:
        line = self._line
        if line is not None:
            line.play_frame(pcm)
            self.double_talk.bot_frame(pcm)
            if self._recorder is not None:
                self._recorder.bot_frame(pcm)

    def _on_played(self, frame: SpeechAudio) -> None:
        arrived = self._arrived.pop(id(frame), None)
        if arrived is not None:
            FRAMES_OUT_LATENCY.record(time.perf_counter() - arrived)
        if frame.index != self._playing_index or frame.turn_id != self._speaking_turn:
            self._playing_index = frame.index  # a new sentence: it may come back as echo
            if (sentence := self.turns.sentence(frame.turn_id, frame.index)) is not None:
                self.barge_in.played.sentence_started(sentence, self._clock.monotonic())
        # Stamped with the caller's audio read by now: the axis the recogniser's times use.
        listen = self.listen
        self.barge_in.played.frame_played(listen.replay.end * FRAME_MS if listen else 0)
        if self.turns.frame_played(frame.turn_id, frame.index):
            self.barge_in.played.stopped(self._clock.monotonic())
            if self._line is not None:
                text = self.turns.sentence_text(frame.turn_id, frame.index)
                self._line.sentence_played(frame.turn_id, frame.index, text)
        if frame.turn_id != self._speaking_turn:
            self._speaking_turn = frame.turn_id
            if self._caller_ended_at is not None:
                answer_sec = self._clock.monotonic() - self._caller_ended_at
                ANSWER_LATENCY.record(answer_sec, {"call.mode": "voice"})
                log.info(
                    "bot answering",
                    extra={
                        "call_id": self.call_id,
                        "turn_id": frame.turn_id,
                        "answer_ms": round(answer_sec * 1000),
                        # Where the answer's time went (system monotonic seconds):
                        # speech_ended and the final read, the frame in from Speak, out.
                        "ended_at": self._ended_mono,
                        "ended_after_ms": self._ended_after_ms,
                        "final_at": self._final_mono,
                        "audio_at": arrived or 0.0,
                        "played_at": time.perf_counter(),
                    },
                )
                self._caller_ended_at = None

    async def _on_turn_end(self, turn_id: str) -> None:
        if self._speaking_turn == turn_id:
            self._speaking_turn = None
        self.turns.forget(turn_id)
        self.barge_in.turn_played(turn_id)
        await self._report(TurnPlayed(turn_id))

    # Playback, as the barge-in state machine stops and restarts it.

    def pause(self) -> None:
        self.playout.pause()
        if self._line is not None:
            self._line.clear_audio()

    def resume(self) -> None:
        self.playout.resume()

    # Listen and barge-in.

    def _on_listen_open(self, reconnect: bool) -> None:
        if self.listen is not None:  # the stream's times count from its first frame
            self._stream_start_ms = self.listen.replay.first * FRAME_MS
        if reconnect:
            self.barge_in.listen_reopened()

    async def _on_listen_event(self, event: ListenResponse) -> None:
        if self.gate is not None and self.gate.holds_caller:
            await self.gate.listen_event(event)
            return
        match event:
            case SpeechStarted(offset_ms=offset_ms):
                listen = self.listen
                live = listen is not None and offset_ms >= listen.replayed_ms
                if self._speaking_turn is not None and listen is not None and live:
                    # Caller audio that went by from the onset until the bot stops now.
                    CUTOFF_LATENCY.record(max(listen.sent_ms - offset_ms, 0) / 1000)
                await self._report(CallerStartedSpeaking())
                self.barge_in.speech_started(self._speaking_turn)
            case SpeechEnded(offset_ms=end_ms):
                self._caller_ended_at = self._clock.monotonic()
                self._ended_mono = time.perf_counter()
                # Caller audio sent to Listen past the end of speech when the end came
                # back: the silence window, plus what went by while Listen worked.
                self._ended_after_ms = self.listen.sent_ms - end_ms if self.listen else 0
                self.barge_in.speech_ended()
            case Transcript(is_final=True):
                self._final_mono = time.perf_counter()
                await self._on_final(event)
            case Transcript():  # an echoing line's barge-in
                self.barge_in.partial_transcript(event.text, self._span(event))

    def _span(self, event: Transcript) -> tuple[int, int] | None:
        """Where the words lie in the call's caller audio (ms), if the recogniser said."""
        if event.end_ms <= 0:
            return None
        base = self._stream_start_ms
        return base + event.start_ms, base + event.end_ms

    async def _on_final(self, event: Transcript) -> None:
        text = event.text.strip()
        held = self.barge_in.final_transcript(text, self._span(event))
        if held is not None:
            verdict, turn_id = held
            if verdict is not Verdict.INTERRUPT or turn_id is None:
                await self._report(CallerQuiet())  # the bot resumed where it stopped
                return
            await self._interrupt(turn_id)
        text = self.barge_in.caller_said  # without the bot's echo in front
        if has_words(text):
            await self._report(CallerTurn(text, event.confidence, event.lang))
        else:
            await self._report(CallerQuiet())

    async def _interrupt(self, turn_id: str) -> None:
        """Cancels the turn the caller talked over: its audio, its synthesis; the brain
        hears what the caller heard."""
        heard = self.turns.cancel(turn_id)
        self.barge_in.played.stopped(self._clock.monotonic())
        self.speak.send(CancelTurn(turn_id))
        self.playout.drop_turn(turn_id)
        if self._speaking_turn == turn_id:
            self._speaking_turn = None
        self.playout.resume()
        await self._report(TurnInterrupted(turn_id, heard, spoken=self.turns.has_speech(turn_id)))
        log.info(
            "caller interrupted the bot",
            extra={"call_id": self.call_id, "turn_id": turn_id, "pii_heard": heard},
        )
