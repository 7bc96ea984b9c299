"""Which sentences of which agent turn were synthesised and played: the heard text.

A turn's sentences are tracked frame by frame: how many frames of each were
received from ``Speak`` and how many were played to the line. After a barge-in
the caller heard every sentence played in full, plus the start of the one that
was cut, cut at a word boundary in proportion to its frames played (words x
played / received, rounded down: a word half-said is not counted as heard).

Fillers (``AgentSentence.filler``) are spoken under negative indexes of their
turn (-1, -2, …), so they never collide with the turn's own sentences, and they
are never part of the heard text (the brain does not store them).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class SpokenSentence:
    text: str
    received: int = 0  # frames from Speak
    played: int = 0  # frames sent to the line
    done: bool = False  # Speak said all its audio was sent

    def heard(self) -> str:
        if self.played <= 0:
            return ""
        if self.done and self.played >= self.received:
            return self.text
        words = self.text.split()
        return " ".join(words[: len(words) * self.played // max(1, self.received)])


@dataclass
class TurnTrack:
    sentences: dict[int, SpokenSentence] = field(default_factory=dict)
    fillers: int = 0
    brain_done: bool = False
    queued_end: bool = False
    cancelled: bool = False

    @property
    def audio_complete(self) -> bool:
        """The brain finished the turn and Speak sent every sentence's audio."""
        return self.brain_done and all(s.done for s in self.sentences.values())

    @property
    def spoken(self) -> list[SpokenSentence]:
        """The turn's own sentences (not fillers), in order."""
        return [self.sentences[i] for i in sorted(self.sentences) if i >= 0]


class VoiceTurns:
    """Every agent turn of the call that reached the voice pipeline, by turn id."""

    def __init__(self) -> None:
        self._turns: dict[str, TurnTrack] = {}

    def _track(self, turn_id: str) -> TurnTrack:
        track = self._turns.get(turn_id)
        if track is None:
            track = self._turns[turn_id] = TurnTrack()
        return track

    def add_sentence(self, turn_id: str, index: int, text: str, filler: bool) -> int | None:
        """Registers a sentence; returns the index to speak it under (None: cancelled turn)."""
        track = self._track(turn_id)
        if track.cancelled:
            return None
        if filler:
            track.fillers += 1
            index = -track.fillers
        track.sentences[index] = SpokenSentence(text)
        return index

    def frame_received(self, turn_id: str, index: int) -> bool:
        """Counts a frame from Speak; False when it must be dropped (cancelled, unknown)."""
        track = self._turns.get(turn_id)
        if track is None or track.cancelled:
            return False
        sentence = track.sentences.get(index)
        if sentence is None:
            return False
        sentence.received += 1
        return True

    def received(self, turn_id: str, index: int) -> int:
        """Frames of the sentence received so far."""
        track = self._turns.get(turn_id)
        sentence = track.sentences.get(index) if track is not None else None
        return sentence.received if sentence is not None else 0

    def sentence_text(self, turn_id: str, index: int) -> str:
        track = self._turns.get(turn_id)
        sentence = track.sentences.get(index) if track is not None else None
        return sentence.text if sentence is not None else ""

    def frame_played(self, turn_id: str, index: int) -> bool:
        """Counts one played frame; True when it was the sentence's last one."""
        track = self._turns.get(turn_id)
        if track is not None and (sentence := track.sentences.get(index)) is not None:
            sentence.played += 1
            return sentence.done and sentence.played == sentence.received
        return False

    def text_done(self, turn_id: str, index: int) -> bool:
        """Speak finished a sentence; True when the turn's audio is now complete."""
        track = self._turns.get(turn_id)
        if track is None or track.cancelled or index not in track.sentences:
            return False
        track.sentences[index].done = True
        return self._complete_now(track)

    def brain_done(self, turn_id: str) -> bool:
        """The brain finished the turn; True when its audio is now complete."""
        track = self._track(turn_id)
        if track.cancelled:
            return False
        track.brain_done = True
        return self._complete_now(track)

    @staticmethod
    def _complete_now(track: TurnTrack) -> bool:
        if track.queued_end or not track.audio_complete:
            return False
        track.queued_end = True
        return True

    def is_cancelled(self, turn_id: str) -> bool:
        track = self._turns.get(turn_id)
        return track is not None and track.cancelled

    def has_speech(self, turn_id: str) -> bool:
        """Whether the turn has sentences the brain stores (not only fillers)."""
        track = self._turns.get(turn_id)
        return track is not None and any(i >= 0 for i in track.sentences)

    def heard_text(self, turn_id: str) -> str:
        """What the caller heard of the turn's own sentences, in order."""
        track = self._turns.get(turn_id)
        if track is None:
            return ""
        heard: list[str] = []
        for sentence in track.spoken:
            part = sentence.heard()
            if part:
                heard.append(part)
            if part != sentence.text:
                break
        return " ".join(heard)

    def fully_played(self, turn_id: str) -> bool:
        track = self._turns.get(turn_id)
        return track is not None and all(
            s.done and s.played >= s.received for s in track.sentences.values()
        )

    def cancel(self, turn_id: str) -> str:
        """Marks the turn cancelled (its late audio and sentences are dropped); the heard text."""
        track = self._track(turn_id)
        track.cancelled = True
        return self.heard_text(turn_id)

    def unplayed(self) -> list[str]:
        """Turns with stored sentences the caller did not hear in full."""
        return [
            turn_id
            for turn_id, track in self._turns.items()
            if not track.cancelled and self.has_speech(turn_id) and not self.fully_played(turn_id)
        ]

    def forget(self, turn_id: str) -> None:
        """A played turn needs no tracking any more (cancelled ones stay, to drop late audio)."""
        track = self._turns.get(turn_id)
        if track is not None and not track.cancelled:
            del self._turns[turn_id]
