"""``CallOutput``: how the brain's words reach the caller, whatever the line.

A text line gets each sentence as text and a turn counts as delivered once it
was sent (:class:`TextOutput`); a voice line synthesises, paces and plays it, and
a turn counts as delivered once its last frame was played
(:class:`switchboard_dialer.media.voice.VoicePipeline`). The session talks to
either through this one interface and hears back through typed events
(:mod:`switchboard_dialer.media.events`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from switchboard.converse import AgentSentence, PlayoutReport
from switchboard.media import ExpectedAnswer
from switchboard_dialer.media.events import Report, TurnPlayed
from switchboard_dialer.telephony.base import PhoneLine


class CallOutput(ABC):
    """The bot's side of one call's line."""

    @abstractmethod
    async def prepare(self) -> None:
        """Runs from dial time until the call ends (voice: the greeting is synthesised
        while the phone rings)."""

    @abstractmethod
    async def run(self, line: PhoneLine) -> None:
        """Runs from the answer until the call ends (voice: playout and Listen)."""

    @abstractmethod
    async def say(self, sentence: AgentSentence) -> None:
        """Delivers one sentence of an agent turn (or a filler)."""

    @abstractmethod
    async def finish_turn(self, turn_id: str) -> None:
        """The brain sent the whole turn; ``TurnPlayed`` follows once the caller got it."""

    @abstractmethod
    async def change_speech(self, lang: str, prosody_rate: float, voice: str = "") -> None:
        """The conversation's language or speaking rate changed (``voice``: the one the
        request names for the new language, empty for the provider's default)."""

    async def expect(self, answer: ExpectedAnswer) -> None:
        """What the bot just asked the caller for (voice: tells Listen's endpointing);
        a text line has no endpointing, so by default nothing."""
        return

    @property
    @abstractmethod
    def speaking(self) -> bool:
        """Whether the bot is saying (or holding, while the caller talks over it) a turn."""

    @abstractmethod
    def unheard(self) -> list[PlayoutReport]:
        """The turns the caller did not hear in full, if the call ended now."""


class TextOutput(CallOutput):
    """A text line: sentences go out as text; a turn is delivered once it was sent.

    Nothing runs in the background and nothing is ever half-heard.
    """

    def __init__(self, line: PhoneLine, report: Report) -> None:
        self._line = line
        self._report = report

    async def prepare(self) -> None:
        return

    async def run(self, line: PhoneLine) -> None:
        return

    async def say(self, sentence: AgentSentence) -> None:
        await self._line.say(sentence.turn_id, sentence.text)

    async def finish_turn(self, turn_id: str) -> None:
        await self._report(TurnPlayed(turn_id))

    async def change_speech(self, lang: str, prosody_rate: float, voice: str = "") -> None:
        return  # the text reaches the caller in whatever language the brain writes

    @property
    def speaking(self) -> bool:
        return False

    def unheard(self) -> list[PlayoutReport]:
        return []
