"""``Speech.Listen`` and ``Speech.Speak`` in domain terms.

One dataclass per proto message of the two streams, with the proto's name; the
one converter each way is :mod:`switchboard.speech_wire`. ``Listen``: a
:class:`ListenConfig`, then caller frames (and language changes) in,
:data:`ListenResponse` events out. ``Speak``: a :class:`SpeakConfig`, then
:data:`SpeakRequest` events in, :data:`SpeakResponse` events out; every piece of
audio names the turn and sentence it renders, so a cancelled turn's audio is
recognisable and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.media import AudioFrame, ExpectedAnswer

# Listen: dialer → speech service.


# The most 20 ms frames one audio message may carry on Listen and Speak (1 s).
MAX_FRAMES_PER_MESSAGE = 50


@dataclass(frozen=True)
class ListenConfig:
    """Opens a Listen stream; always first. An empty ``lang``: the service's default.

    ``frames_per_message``: how many 20 ms frames one audio message may carry (0 or 1:
    one; at most :data:`MAX_FRAMES_PER_MESSAGE`).
    """

    call_id: str
    sample_rate: int
    lang: str = ""
    frames_per_message: int = 0


@dataclass(frozen=True)
class ListenSettings:
    """Recognise ``lang`` from the next utterance on."""

    lang: str


# ExpectedAnswer (common.proto's): what the bot just asked for, in force until the next.
ListenRequest = ListenConfig | AudioFrame | ListenSettings | ExpectedAnswer

# Listen: speech service → dialer.


@dataclass(frozen=True)
class SpeechStarted:
    """The caller started speaking (``offset_ms``: the onset, in stream time)."""

    offset_ms: int


@dataclass(frozen=True)
class SpeechEnded:
    """The caller fell silent; the final transcript follows."""

    offset_ms: int


@dataclass(frozen=True)
class Transcript:
    text: str
    is_final: bool
    confidence: float = 1.0
    lang: str = ""
    start_ms: int = 0
    end_ms: int = 0


ListenResponse = SpeechStarted | SpeechEnded | Transcript

# Speak: dialer → speech service.


@dataclass(frozen=True)
class SpeakConfig:
    """Opens a Speak stream; always first. Empty or 0: the provider's default.

    ``frames_per_message``: how many 20 ms frames one ``SpeechAudio`` may carry on the
    wire (0 or 1: one; at most :data:`MAX_FRAMES_PER_MESSAGE`); fixed by the config.
    """

    call_id: str = ""
    sample_rate: int = 0
    voice: str = ""
    lang: str = ""
    prosody_rate: float = 0.0
    frames_per_message: int = 0


@dataclass(frozen=True)
class SpeakSettings(SpeakConfig):
    """A voice, language or rate change mid-call (the proto's ``settings``, a
    SpeakConfig): the fields that are set apply from the next text on."""


@dataclass(frozen=True)
class SpeakText:
    """One sentence of an agent turn; the sentences of a turn keep their order."""

    turn_id: str
    index: int
    text: str


@dataclass(frozen=True)
class CancelTurn:
    """Stop the turn now: none of its audio is sent after this."""

    turn_id: str


SpeakRequest = SpeakConfig | SpeakText | CancelTurn

# Speak: speech service → dialer.


@dataclass(frozen=True, slots=True)
class SpeechAudio:
    """20 ms of the audio of sentence ``index`` of ``turn_id``."""

    turn_id: str
    index: int
    frame: AudioFrame

    @property
    def pcm(self) -> bytes:
        return self.frame.pcm


@dataclass(frozen=True)
class SpeechTextDone:
    """All audio of sentence ``index`` of ``turn_id`` was sent."""

    turn_id: str
    index: int


SpeakResponse = SpeechAudio | SpeechTextDone
