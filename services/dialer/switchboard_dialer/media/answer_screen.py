"""``AnswerScreen``: who picked up an outbound call, a person or an answering machine.

The rules, on the call's own audio time (20 ms per caller frame, so a simulated
phone running faster than real time is judged the same):

- a beep (``BeepDetector``) → a machine, and its message can be left now;
- the transcript so far says "leave a message", "you've reached", "mailbox", … → a machine;
- talk going on for ``greeting_machine_ms`` from its first word (pauses shorter than
  the recogniser's endpointing do not break it) → a machine: people answer briefly;
- a short utterance, its final transcript, then ``human_silence_ms`` of quiet → a
  person ("hello?", "yes, speaking" and they wait);
- nothing said for ``silence_human_ms`` after the answer → a person, waiting for us;
- the carrier's own detection (Twilio ``AnsweredBy``), whichever comes first.

A machine's message waits for its cue: the beep's end, else ``no_beep_silence_ms``
of quiet after its greeting, else ``max_wait_ms`` after the decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from switchboard_dialer.media.beep import BeepDetector

# What voicemail greetings say and people answering a call do not.
MACHINE_PHRASES = re.compile(
    r"\b(?:"
    r"leave (?:a|your|me a|us a) (?:brief |short |detailed )?(?:message|name and number)"
    r"|after the (?:tone|beep)|at the (?:tone|beep)"
    r"|you(?:'ve| have) reached|this is the voice ?mail"
    r"|voice ?mail|mail ?box|answering machine"
    r"|(?:is|am|are) (?:currently )?not available|unavailable"
    r"|(?:can't|cannot|can not|unable to) (?:take|answer|come to)"
    r"|record your message|get back to you|return your call"
    r")\b",
    re.IGNORECASE,
)


def sounds_like_voicemail(text: str) -> bool:
    """Whether a transcript reads like an answering machine's greeting."""
    return MACHINE_PHRASES.search(text.replace("\u2019", "'")) is not None


class AnswerState(StrEnum):
    LISTENING = "listening"  # deciding; the bot holds its greeting
    HUMAN = "human"  # the conversation goes on as usual
    MACHINE = "machine"  # an answering machine: waiting for its beep
    MESSAGE = "message"  # the machine records: leave the message now


# Twilio AnsweredBy values (and LiveKit-style ones) → what they decide.
CARRIER_VERDICTS = {
    "human": AnswerState.HUMAN,
    "machine_start": AnswerState.MACHINE,
    "machine": AnswerState.MACHINE,
    "machine-vm": AnswerState.MACHINE,
    "machine_end_beep": AnswerState.MESSAGE,
    "machine_end_silence": AnswerState.MESSAGE,
    "machine_end_other": AnswerState.MESSAGE,
}


@dataclass(frozen=True)
class ScreenRules:
    """The thresholds, in ms of the call's audio (``dialer.voicemail`` in the config)."""

    silence_human_ms: int = 2000
    greeting_machine_ms: int = 3500
    human_silence_ms: int = 200
    transcript_wait_ms: int = 1200
    no_beep_silence_ms: int = 2500
    max_wait_ms: int = 30000


class AnswerScreen:
    """Decides from the caller's frames, speech events and transcripts; see the module."""

    def __init__(self, sample_rate: int, rules: ScreenRules) -> None:
        self.rules = rules
        self.state = AnswerState.LISTENING
        self.reason = ""  # what decided it: beep, phrase, long_greeting, short_answer, ...
        self.decided_ms = -1.0  # audio time of the human/machine decision
        self.cue = ""  # what said the machine records: beep, silence_after_greeting, ...
        self.now_ms = 0.0
        self._rate = sample_rate
        self._beep = BeepDetector(sample_rate)
        self._talk_since: float | None = None  # the first word of the current talk
        self._speaking = False
        self._quiet_since: float | None = None  # the last utterance ended (event arrived)
        self._heard_final = False  # a final transcript came after the last utterance
        self._machine_since = 0.0

    @property
    def deciding(self) -> bool:
        return self.state is AnswerState.LISTENING

    @property
    def settled(self) -> bool:
        """Nothing more to decide: a person, or the message is due."""
        return self.state in (AnswerState.HUMAN, AnswerState.MESSAGE)

    @property
    def final_owed(self) -> bool:
        """The caller spoke and the final transcript of it has not come yet."""
        return self._talk_since is not None and not self._heard_final

    # Inputs.

    def frame(self, pcm: bytes) -> None:
        """One caller frame: the clock moves, the beep detector listens."""
        if self.settled:
            return
        self.now_ms += len(pcm) * 500 / self._rate
        if self._beep.feed(pcm):
            self._to(AnswerState.MESSAGE, "beep")
            return
        if self.state is AnswerState.LISTENING:
            self._listening_tick()
        elif self.state is AnswerState.MACHINE:
            self._machine_tick()

    def speech_started(self) -> None:
        self._speaking = True
        self._quiet_since = None
        self._heard_final = False
        if self._talk_since is None:
            self._talk_since = self.now_ms

    def speech_ended(self) -> None:
        self._speaking = False
        self._quiet_since = self.now_ms
        if self.state is AnswerState.LISTENING:
            self._listening_tick()

    def transcript(self, text: str, final: bool) -> None:
        if self.state is not AnswerState.LISTENING:
            return
        if sounds_like_voicemail(text):
            self._to(AnswerState.MACHINE, "phrase")
        elif final:
            self._heard_final = True
            self._listening_tick()

    def no_audio(self) -> None:
        """The line brought no frame at all in the time the silence rule waits."""
        if self.state is AnswerState.LISTENING and self.now_ms == 0:
            self._to(AnswerState.HUMAN, "no_audio")

    def carrier(self, answered_by: str) -> None:
        """The carrier's answering-machine detection; unknown values change nothing."""
        verdict = CARRIER_VERDICTS.get(answered_by.strip().lower())
        if verdict is None or self.settled:
            return
        if verdict is AnswerState.HUMAN and self.state is not AnswerState.LISTENING:
            return  # our own ears heard a machine already
        self._to(verdict, f"carrier:{answered_by}")

    # Rules.

    def _talked_ms(self) -> float:
        """From the first word to now, or to the end of the last utterance when quiet."""
        if self._talk_since is None:
            return 0.0
        quiet = not self._speaking and self._quiet_since is not None
        end = self._quiet_since if quiet and self._quiet_since is not None else self.now_ms
        return end - self._talk_since

    def _listening_tick(self) -> None:
        rules, now = self.rules, self.now_ms
        if self._talk_since is None:
            if now >= rules.silence_human_ms:
                self._to(AnswerState.HUMAN, "silence")
        elif self._talked_ms() >= rules.greeting_machine_ms:
            self._to(AnswerState.MACHINE, "long_greeting")
        elif not self._speaking and self._quiet_since is not None:
            quiet = now - self._quiet_since
            heard = self._heard_final or quiet >= rules.transcript_wait_ms
            if heard and quiet >= rules.human_silence_ms:
                self._to(AnswerState.HUMAN, "short_answer")

    def _machine_tick(self) -> None:
        rules, now = self.rules, self.now_ms
        quiet_since = self._quiet_since if self._quiet_since is not None else self._machine_since
        if not self._speaking and now - quiet_since >= rules.no_beep_silence_ms:
            self._to(AnswerState.MESSAGE, "silence_after_greeting")
        elif now - self._machine_since >= rules.max_wait_ms:
            self._to(AnswerState.MESSAGE, "no_beep")

    def _to(self, state: AnswerState, reason: str) -> None:
        if self.state is AnswerState.LISTENING:
            self.decided_ms = self.now_ms
            self.reason = reason
        if state is AnswerState.MACHINE:
            self._machine_since = self.now_ms
        elif state is AnswerState.MESSAGE:
            self.cue = reason
        self.state = state
