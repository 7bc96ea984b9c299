"""Domain types of the speech service: what streams carry, without protobuf."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LANG = "en-US"


@dataclass(frozen=True)
class ListenConfig:
    call_id: str
    sample_rate: int
    lang: str = DEFAULT_LANG


@dataclass(frozen=True)
class SpeechStarted:
    offset_ms: int


@dataclass(frozen=True)
class SpeechEnded:
    offset_ms: int


@dataclass(frozen=True)
class Transcript:
    text: str
    is_final: bool
    confidence: float
    lang: str
    start_ms: int
    end_ms: int


ListenEvent = SpeechStarted | SpeechEnded | Transcript


@dataclass(frozen=True)
class Voice:
    """How a Speak stream sounds: provider voice name, language, speaking rate."""

    name: str
    lang: str
    rate: float = 1.0


@dataclass(frozen=True)
class SpeakConfig:
    call_id: str
    sample_rate: int
    voice: Voice


@dataclass(frozen=True)
class SpeakText:
    turn_id: str
    index: int
    text: str


@dataclass(frozen=True)
class AudioOut:
    """One 20 ms frame of a text's audio."""

    turn_id: str
    index: int
    seq: int
    timestamp_ms: int
    pcm: bytes


@dataclass(frozen=True)
class TextDone:
    turn_id: str
    index: int


SpeakEvent = AudioOut | TextDone
