"""What the dialer and the speech service say to each other, as domain types.

``Listen``: caller frames in, :data:`ListenEvent` out. ``Speak``: :data:`SpeakRequest`
in, :data:`SpeakEvent` out; every piece of audio names the turn and sentence it
renders, so a cancelled turn's audio is recognisable and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ListenConfig:
    call_id: str
    sample_rate: int
    lang: str


@dataclass(frozen=True)
class SpeakConfig:
    call_id: str
    sample_rate: int
    voice: str
    lang: str
    prosody_rate: float


# Listen: speech service → dialer.


@dataclass(frozen=True)
class SpeechStarted:
    """The caller has been speaking for ``vad_cutoff_timeout_ms`` (offset: the onset)."""

    offset_ms: int


@dataclass(frozen=True)
class SpeechEnded:
    """The caller has been silent for ``vad_silence_timeout_ms``; the final follows."""

    offset_ms: int


@dataclass(frozen=True)
class Transcript:
    text: str
    is_final: bool
    confidence: float = 1.0
    lang: str = ""


ListenEvent = SpeechStarted | SpeechEnded | Transcript

# Speak: dialer → speech service.


@dataclass(frozen=True)
class SpeakText:
    """One sentence of an agent turn; fillers use negative indexes (see voice_turns)."""

    turn_id: str
    index: int
    text: str


@dataclass(frozen=True)
class CancelTurn:
    turn_id: str


@dataclass(frozen=True)
class SpeakSettings:
    lang: str
    prosody_rate: float


SpeakRequest = SpeakText | CancelTurn | SpeakSettings

# Speak: speech service → dialer.


@dataclass(frozen=True, slots=True)
class BotAudio:
    """20 ms of a sentence's audio (PCM16 LE mono at the call's rate)."""

    turn_id: str
    index: int
    pcm: bytes


@dataclass(frozen=True)
class TextDone:
    """All audio of sentence ``index`` of ``turn_id`` was sent."""

    turn_id: str
    index: int


SpeakEvent = BotAudio | TextDone
