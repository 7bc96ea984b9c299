"""Endpointing: per-frame VAD decisions → utterance boundaries, on media time.

Time here is the stream's own media time (frames x 20 ms), never the wall
clock, so the logic is exact and a test can run a 30-second call in
microseconds. The flags are read per utterance: while idle every frame sees the
latest ones; once an utterance begins its parameters are frozen until it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from switchboard.config import Features
from switchboard_speech.audio import FRAME_MS

# Decode speculatively once the caller has been silent this long (see stt/batch.py).
# The final is that decode, so it comes this much after the window's start plus the
# decode's time: 60 ms rather than 120 puts it 60 ms sooner on every turn, and lets an
# early end (a complete answer) come sooner. Measured on Piper answers through webrtcvad
# (8 kHz): 21 stale decodes (the caller went on) in 24 utterances instead of 18.
SPECULATE_AFTER_MS = 60
# Shorter bursts of "speech" are clicks and breaths, not words.
MIN_SPEECH_MS = 100
# An utterance is decoded when it reaches this length, even if the caller goes on.
MAX_UTTERANCE_MS = 30_000
# Audio kept from before the first voiced frame, so onsets are not clipped.
PREROLL_MS = 200
# Silence after which an utterance may end early, when what was heard is a complete
# answer to what the bot asked (see answer_complete.py); the full window otherwise.
EARLY_SILENCE_MS = 240


@dataclass(frozen=True)
class EndpointParams:
    threshold: float = 0.5
    silence_ms: int = 500
    start_ms: int = 250
    speculate_ms: int = SPECULATE_AFTER_MS
    min_speech_ms: int = MIN_SPEECH_MS
    max_utterance_ms: int = MAX_UTTERANCE_MS
    early_silence_ms: int = EARLY_SILENCE_MS

    @classmethod
    def from_features(cls, features: Features) -> EndpointParams:
        silence = features.vad_silence_timeout_ms
        return cls(
            threshold=features.vad_threshold,
            silence_ms=silence,
            start_ms=features.vad_cutoff_timeout_ms,
            # Speculating after the window closed would be pointless.
            speculate_ms=min(SPECULATE_AFTER_MS, max(FRAME_MS, silence - FRAME_MS)),
            early_silence_ms=min(EARLY_SILENCE_MS, silence),
        )


class Kind(Enum):
    BEGIN = "begin"  # a candidate utterance starts: open it, with the pre-roll
    STARTED = "started"  # enough speech: emit speech_started
    PAUSED = "paused"  # the caller fell silent: decode speculatively
    RESUMED = "resumed"  # the caller went on: a speculative result is stale
    ENDED = "ended"  # silence window closed (or length cap): speech_ended + final
    DISCARDED = "discarded"  # the candidate was too short to be speech


@dataclass(frozen=True)
class Action:
    kind: Kind
    offset_ms: int = 0
    forced: bool = False


class Endpointer:
    """State machine over frames: idle → candidate → speaking → idle."""

    def __init__(self, frame_ms: int = FRAME_MS) -> None:
        self._frame_ms = frame_ms
        self._now_ms = 0  # media time at the end of the last frame
        self._active: EndpointParams | None = None
        self._started = False
        self._onset_ms = 0
        self._voiced_ms = 0
        self._silence_ms = 0
        self._last_voiced_end_ms = 0
        self._paused = False

    @property
    def in_utterance(self) -> bool:
        return self._active is not None

    def params_for(self, fresh: EndpointParams) -> EndpointParams:
        """The parameters the next frame is judged with: frozen inside an utterance."""
        return self._active or fresh

    def step(self, voiced: bool, params: EndpointParams) -> list[Action]:
        """Consumes one frame's decision; returns what happened, in order."""
        start = self._now_ms
        self._now_ms += self._frame_ms
        actions: list[Action] = []
        if self._active is None:
            if not voiced:
                return actions
            self._active = params
            self._started = False
            self._onset_ms = start
            self._voiced_ms = 0
            self._silence_ms = 0
            self._paused = False
            actions.append(Action(Kind.BEGIN, start))
        active = self._active
        if voiced:
            self._voiced_ms += self._frame_ms
            self._silence_ms = 0
            self._last_voiced_end_ms = self._now_ms
            if self._paused:
                self._paused = False
                actions.append(Action(Kind.RESUMED, self._now_ms))
            if not self._started and self._voiced_ms >= active.start_ms:
                self._started = True
                actions.append(Action(Kind.STARTED, self._onset_ms))
        else:
            self._silence_ms += self._frame_ms
            speech_enough = self._started or self._voiced_ms >= active.min_speech_ms
            if not self._paused and speech_enough and self._silence_ms >= active.speculate_ms:
                self._paused = True
                actions.append(Action(Kind.PAUSED, self._last_voiced_end_ms))
            if self._silence_ms >= active.silence_ms:
                actions.extend(self._close(speech_enough, forced=False))
                return actions
        if self._now_ms - self._onset_ms >= active.max_utterance_ms:
            actions.extend(self._close(True, forced=True))
        return actions

    @property
    def may_end_early(self) -> bool:
        """The caller has been silent long enough for :meth:`end_early` to end the utterance."""
        active = self._active
        return active is not None and self._paused and self._silence_ms >= active.early_silence_ms

    def end_early(self) -> list[Action]:
        """Ends the utterance now, before its silence window closes (what was heard is a
        complete answer); nothing unless :attr:`may_end_early`."""
        if not self.may_end_early:
            return []
        return self._close(True, forced=False)

    def _close(self, speech: bool, forced: bool) -> list[Action]:
        self._active = None
        if not speech:
            return [Action(Kind.DISCARDED, self._onset_ms)]
        actions = []
        if not self._started:
            # A short word ("no") is an utterance too, announced when it ends.
            actions.append(Action(Kind.STARTED, self._onset_ms))
        end = self._now_ms if forced else self._last_voiced_end_ms
        actions.append(Action(Kind.ENDED, end, forced=forced))
        return actions
