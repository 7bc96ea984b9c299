"""``VoicePipeline``: the media side of one voice call.

Brain sentences go to ``Speak`` tagged with their turn and index; their audio
queues in the :class:`Playout`, which paces it to the line. Caller frames go
from the line to ``Listen``; a final transcript becomes a caller turn, and
``speech_started`` while the bot talks suspends playout (see ``barge_in``).

Speak runs from the moment the call is placed (the greeting is synthesised
while the phone rings and waits in the playout queue); Listen and playout run
from the answer.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from switchboard.clock import Clock
from switchboard.converse import AgentSentence, CancelAgentTurn, ConverseRequest, PlayoutReport
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
from switchboard_dialer.media.barge_in import Verdict, has_words, judge
from switchboard_dialer.media.playout import Playout, TurnEnd
from switchboard_dialer.media.speech_links import ListenLink, SpeakLink
from switchboard_dialer.media.voice_turns import VoiceTurns
from switchboard_dialer.ports import Sleep, SpeechPort
from switchboard_dialer.tasks import cancel_and_wait
from switchboard_dialer.telephony.base import PhoneLine

log = logging.getLogger(__name__)

# A suspended turn resumes when no final transcript came this long after speech_ended
# (a recogniser that lost the utterance must not leave the bot mute).
TRANSCRIPT_WAIT_SEC = 3.0


@dataclass(frozen=True)
class VoiceConfig:
    sample_rate: int
    voice: str = ""
    lang: str = "en-US"
    prosody_rate: float = 1.0


class VoiceHost(Protocol):
    """What the pipeline asks of its call session."""

    def send_to_brain(self, request: ConverseRequest) -> None: ...

    def caller_speaking(self) -> None:
        """The caller started to speak (silence timer off)."""

    def caller_turn(self, text: str, confidence: float, lang: str) -> None:
        """A complete caller turn for the brain."""

    def caller_quiet(self) -> None:
        """The caller's sound was not a turn (noise, a backchannel)."""

    async def turn_played(self, turn_id: str) -> None:
        """Every frame of the agent turn was played."""

    def turn_cancelled(self, turn_id: str) -> None:
        """The caller interrupted the turn; it will never be played in full."""


class VoicePipeline:
    """Speak, Listen, playout and barge-in for one call."""

    def __init__(
        self,
        call_id: str,
        config: VoiceConfig,
        speech: SpeechPort,
        host: VoiceHost,
        reconnect_timeout_sec: float,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self.call_id = call_id
        self.config = config
        self._speech = speech
        self._host = host
        self._clock = clock
        self._sleep = sleep
        self._reconnect_timeout = reconnect_timeout_sec
        self.turns = VoiceTurns()
        self.speak = SpeakLink(
            speech,
            SpeakConfig(
                call_id, config.sample_rate, config.voice, config.lang, config.prosody_rate
            ),
            self._on_speak_event,
            self._on_resend,
            reconnect_timeout_sec,
            sleep,
            clock,
        )
        self.listen: ListenLink | None = None
        self.playout = Playout(
            self._play, self._on_played, self._on_turn_end, clock, sleep, speed=1.0
        )
        self._line: PhoneLine | None = None
        self._speaking_turn: str | None = None
        self._suspended: str | None = None
        self._suspended_at = 0.0
        self._transcript_timer: asyncio.Task[None] | None = None
        self._skip: dict[tuple[str, int], int] = {}
        self._caller_ended_at: float | None = None
        self.barge_ins = 0
        self.resumes = 0

    @property
    def speaking_turn(self) -> str | None:
        """The agent turn being played (or suspended), if any."""
        return self._speaking_turn

    @property
    def suspended(self) -> bool:
        return self._suspended is not None

    # Running.

    async def run_speak(self) -> None:
        """From dial time: sentences to audio, queued for playout."""
        await self.speak.run()

    async def run_line(self, line: PhoneLine) -> None:
        """From the answer: playout to the line and the caller's audio to Listen."""
        self._line = line
        self.playout.set_speed(line.playout_speed)
        self.listen = ListenLink(
            self._speech,
            ListenConfig(self.call_id, line.sample_rate, self.config.lang),
            line.read_frame,
            self._on_listen_event,
            self._on_listen_open,
            self._reconnect_timeout,
            self._sleep,
            self._clock,
        )
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.playout.run(), name=f"call-{self.call_id}-playout")
                group.create_task(self.listen.run(), name=f"call-{self.call_id}-listen")
        finally:
            if self._transcript_timer is not None:
                await cancel_and_wait([self._transcript_timer])

    # From the session.

    def say(self, sentence: AgentSentence) -> None:
        index = self.turns.add_sentence(
            sentence.turn_id, sentence.index, sentence.text, sentence.filler
        )
        if index is not None:
            self.speak.send(SpeakText(sentence.turn_id, index, sentence.text))

    def turn_done(self, turn_id: str) -> None:
        if self.turns.brain_done(turn_id):
            self.playout.push(TurnEnd(turn_id))

    async def change_speech(self, lang: str, prosody_rate: float) -> None:
        self.speak.send(SpeakSettings(lang=lang, prosody_rate=prosody_rate))
        if lang and self.listen is not None:
            await self.listen.set_lang(lang)

    def unheard_reports(self) -> list[PlayoutReport]:
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

    def _on_played(self, frame: SpeechAudio) -> None:
        self.turns.frame_played(frame.turn_id, frame.index)
        if frame.turn_id != self._speaking_turn:
            self._speaking_turn = frame.turn_id
            if self._caller_ended_at is not None:
                log.info(
                    "bot answering",
                    extra={
                        "call_id": self.call_id,
                        "turn_id": frame.turn_id,
                        "answer_ms": round(
                            (self._clock.monotonic() - self._caller_ended_at) * 1000
                        ),
                    },
                )
                self._caller_ended_at = None

    async def _on_turn_end(self, turn_id: str) -> None:
        if self._speaking_turn == turn_id:
            self._speaking_turn = None
        self.turns.forget(turn_id)
        await self._host.turn_played(turn_id)

    # Listen and barge-in.

    def _on_listen_open(self, reconnect: bool) -> None:
        if reconnect and self._suspended is not None:
            self._resume("listen_reopened")

    def _on_listen_event(self, event: ListenResponse) -> None:
        match event:
            case SpeechStarted():
                self._host.caller_speaking()
                if self._speaking_turn is not None and self._suspended is None:
                    self._suspend(self._speaking_turn)
            case SpeechEnded():
                self._caller_ended_at = self._clock.monotonic()
                if self._suspended is not None:
                    self._arm_transcript_timer()
            case Transcript(is_final=True):
                self._on_final(event)
            case Transcript():
                pass  # partials: the final decides

    def _on_final(self, event: Transcript) -> None:
        text = event.text.strip()
        suspended = self._suspended
        if suspended is not None:
            verdict = judge(text)
            if verdict is Verdict.INTERRUPT:
                self._interrupt(suspended)
            else:
                self._resume(verdict.value)
                self._host.caller_quiet()
                return
        if has_words(text):
            self._host.caller_turn(text, event.confidence, event.lang)
        else:
            self._host.caller_quiet()

    def _suspend(self, turn_id: str) -> None:
        self._suspended = turn_id
        self._suspended_at = self._clock.monotonic()
        self.playout.pause()
        if self._line is not None:
            self._line.clear_audio()
        self.barge_ins += 1
        log.info("bot paused: the caller speaks", extra={"call_id": self.call_id})

    def _resume(self, why: str) -> None:
        self._suspended = None
        self._disarm_transcript_timer()
        self.playout.resume()
        self.resumes += 1
        log.info(
            "bot resumes where it stopped",
            extra={
                "call_id": self.call_id,
                "why": why,
                "paused_ms": round((self._clock.monotonic() - self._suspended_at) * 1000),
            },
        )

    def _interrupt(self, turn_id: str) -> None:
        self._suspended = None
        self._disarm_transcript_timer()
        heard = self.turns.cancel(turn_id)
        self.speak.send(CancelTurn(turn_id))
        self.playout.drop_turn(turn_id)
        if self._speaking_turn == turn_id:
            self._speaking_turn = None
        self.playout.resume()
        # The brain may still be deciding the turn: it stops, and drops its actions.
        self._host.send_to_brain(CancelAgentTurn(turn_id))
        if self.turns.has_speech(turn_id):
            self._host.send_to_brain(PlayoutReport(turn_id, heard, interrupted=True))
        self._host.turn_cancelled(turn_id)
        log.info(
            "caller interrupted the bot",
            extra={"call_id": self.call_id, "turn_id": turn_id, "pii_heard": heard},
        )

    def _arm_transcript_timer(self) -> None:
        self._disarm_transcript_timer()
        self._transcript_timer = asyncio.get_running_loop().create_task(
            self._transcript_overdue(), name=f"call-{self.call_id}-transcript-wait"
        )

    def _disarm_transcript_timer(self) -> None:
        timer = self._transcript_timer
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        self._transcript_timer = None

    async def _transcript_overdue(self) -> None:
        await self._sleep(TRANSCRIPT_WAIT_SEC)
        if self._suspended is not None:
            self._resume("no_transcript")
