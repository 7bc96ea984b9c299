"""``AnswerGate``: the bot keeps quiet on an outbound call until it knows who answered.

The gate stands between a voice pipeline and its caller while the
:class:`AnswerScreen` decides: the greeting waits in the playout queue, and the
caller's speech events feed the screen instead of becoming turns ("hello?" is not
a question for the brain; a machine's greeting is nobody's answer).

- A person → the gate opens: the greeting plays and the call goes on as usual.
- A machine → the bot's unplayed turns are dropped and the session hears
  :class:`AnsweringMachine`; when the machine records (after its beep),
  :class:`MessageCue`, and the gate opens for the message the session queues. The
  caller's sound stays with the gate to the end: a machine never barges in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from switchboard.clock import Clock
from switchboard.speech import ListenResponse, SpeechEnded, SpeechStarted, Transcript
from switchboard_dialer.media.answer_screen import AnswerScreen, AnswerState
from switchboard_dialer.media.events import AnsweringMachine, MessageCue, Report

log = logging.getLogger(__name__)

# A line that carries no audio at all this long after the screen's silence rule would
# have fired is screened as a person: the bot talks rather than wait on a dead line.
NO_AUDIO_GRACE_SEC = 1.0


class AnswerGate:
    """Holds playout and the caller's turns of one call until its answer is screened."""

    def __init__(
        self,
        call_id: str,
        screen: AnswerScreen,
        report: Report,
        drop_turns: Callable[[], list[str]],
    ) -> None:
        self.call_id = call_id
        self.screen = screen
        self.opened = asyncio.Event()
        self._report = report
        self._drop_turns = drop_turns
        self._machine_reported = False
        # A person was decided on before the final transcript of their "hello?" came:
        # that final is still the screen's, not a turn for the brain.
        self._final_owed = False

    @property
    def holds_caller(self) -> bool:
        """The caller's speech goes to the screen, not the brain (deciding, or a machine)."""
        return self.screen.state is not AnswerState.HUMAN or self._final_owed

    async def frame(self, pcm: bytes) -> None:
        """A caller frame, on its way to Listen."""
        screen = self.screen
        if screen.settled:
            return
        before = screen.state
        screen.frame(pcm)
        if screen.state is not before:
            await self._moved(before)

    async def listen_event(self, event: ListenResponse) -> None:
        screen = self.screen
        if self._final_owed:
            if isinstance(event, Transcript) and event.is_final:
                self._final_owed = False
            return
        before = screen.state
        match event:
            case SpeechStarted():
                screen.speech_started()
            case SpeechEnded():
                screen.speech_ended()
            case Transcript(text=text, is_final=final):
                screen.transcript(text, final)
        if screen.state is not before:
            await self._moved(before)

    async def carrier(self, answered_by: str) -> None:
        """The carrier's answering-machine detection arrived."""
        before = self.screen.state
        self.screen.carrier(answered_by)
        if self.screen.state is not before:
            await self._moved(before)

    async def watch(self, clock: Clock) -> None:
        """The screen's time is the caller's audio: with none coming, decide on the clock."""
        await clock.sleep(self.screen.rules.silence_human_ms / 1000 + NO_AUDIO_GRACE_SEC)
        before = self.screen.state
        self.screen.no_audio()
        if self.screen.state is not before:
            await self._moved(before)

    async def _moved(self, before: AnswerState) -> None:
        screen = self.screen
        if before is AnswerState.LISTENING:
            log.info(
                "answer screened",
                extra={
                    "call_id": self.call_id,
                    "answered_by": "human" if screen.state is AnswerState.HUMAN else "machine",
                    "because": screen.reason,
                    "decided_ms": round(screen.decided_ms),
                },
            )
        if screen.state is AnswerState.HUMAN:
            self._final_owed = screen.final_owed
            self.opened.set()
            return
        if not self._machine_reported:
            self._machine_reported = True
            dropped = self._drop_turns()
            await self._report(AnsweringMachine(tuple(dropped), screen.reason))
        if screen.state is AnswerState.MESSAGE:
            log.info(
                "leaving a voicemail message",
                extra={
                    "call_id": self.call_id,
                    "because": screen.cue,
                    "cue_ms": round(screen.now_ms),
                },
            )
            await self._report(MessageCue())
            self.opened.set()
