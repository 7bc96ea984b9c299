"""What the media side of a call reports to its session, as typed events.

A voice line's pipeline hears the caller (``Listen``) and plays the bot
(``Speak`` and playout); it never calls into the session. It hands each of these
events to one ``report`` coroutine instead, in the order they happened, and
waits for it: a turn's ``TurnPlayed`` is handled before the next turn's first
frame leaves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CallerStartedSpeaking:
    """The caller started to speak (the silence timer stops)."""


@dataclass(frozen=True, slots=True)
class CallerTurn:
    """A complete caller turn, for the brain."""

    text: str
    confidence: float
    lang: str


@dataclass(frozen=True, slots=True)
class CallerQuiet:
    """The caller's sound was not a turn (noise, a backchannel)."""


@dataclass(frozen=True, slots=True)
class TurnPlayed:
    """Every frame of the agent turn reached the caller (text lines: every sentence)."""

    turn_id: str


@dataclass(frozen=True, slots=True)
class TurnInterrupted:
    """The caller interrupted the agent turn; it will never be played in full.

    ``heard`` is what the caller heard of it; ``spoken`` says whether the turn had
    sentences the brain stores (a turn of fillers only has nothing to correct).
    """

    turn_id: str
    heard: str
    spoken: bool


@dataclass(frozen=True, slots=True)
class AnsweringMachine:
    """An outbound call reached an answering machine (``reason``: what gave it away).

    ``dropped`` are the agent turns the machine never heard (the held greeting).
    """

    dropped: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class MessageCue:
    """The answering machine records now (its beep ended): leave the message."""


MediaEvent = (
    CallerStartedSpeaking
    | CallerTurn
    | CallerQuiet
    | TurnPlayed
    | TurnInterrupted
    | AnsweringMachine
    | MessageCue
)
Report = Callable[[MediaEvent], Awaitable[None]]
