"""Echo: the bot's own voice coming back on the caller's line (a speakerphone).

The recogniser hears the echo as the caller speaking, so without a check the
bot would stop for its own words. The check here is on text, after the
recogniser: an utterance whose words are, in order, (mostly) words the bot
played in the last few seconds is echo. Words are compared loosely (a
recogniser mishears "berth" for "birth"), in order (a caller's answer reuses a
word or two of the question, not a run of them), and a word the recogniser
repeats ("got it got it got it", a small model on faint audio) counts once.

Which played words an utterance is compared with: those the bot played during the
media time the utterance covers, from ``ECHO_LEAD_MS`` before its start (the echo's
delay, the recogniser's onset, jitter) to its end (:meth:`PlayedText.during`; the
recogniser says where an utterance lies in the caller's audio, and each played frame
is stamped with how much of that audio had been read when it was played). A short
utterance is echo when all its words are among those; longer ones need
``MIN_ECHO_WORDS`` matched. Compared so, an echo transcribed late (the recogniser
lags, the bot has moved on) is still judged against the words it echoes, and a
caller answering after the bot went quiet is compared with nothing.

Without the utterance's times (a recogniser that gives none) the words compared
are those played in the last ``ECHO_WINDOW_SEC`` (:meth:`PlayedText.recent`), and a
short utterance is echo only when its words are among the last ``TAIL_WORDS``
played: the bot stops within a frame of the echo's onset, so the echo that stopped
it is often one or two words, the last ones played.

:func:`is_echo` is the rule. The barge-in rule (``barge_in.judge``) treats echo
like a backchannel: the bot resumes where it stopped and the words never reach the
brain.

Limits, by design: a caller who repeats three or more of the bot's words back to it
while it talks, or one or two it said in the last ``ECHO_LEAD_MS`` ("… yes or no?"
— "no"), is taken for echo.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import deque
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Protocol

# Played text this recent can come back as echo (the carrier delay plus the
# recogniser's endpointing is well under it).
ECHO_WINDOW_SEC = 6.0
# Speech that starts this long after the bot went quiet is not its echo.
ECHO_TAIL_SEC = 1.5
# An utterance may echo what the bot played from this long (media time) before its
# start: the echo's delay, the recogniser's onset, the jitter of reading the line.
ECHO_LEAD_MS = 1500
# An utterance is echo when this share of its words match played words, in order ...
ECHO_SHARE = 0.7
# ... and at least this many words matched, or all of them among the last words played.
MIN_ECHO_WORDS = 3
TAIL_WORDS = 4
# Two words are the same word when their letters are this alike (difflib ratio).
WORD_LIKENESS = 0.75
MAX_SENTENCES = 32

_WORD = re.compile(r"[\w']+")


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _alike(a: str, b: str) -> bool:
    return a == b or SequenceMatcher(None, a, b).ratio() >= WORD_LIKENESS


def caller_part(transcript: str, played: str, tail: int | None = TAIL_WORDS) -> str:
    """``transcript`` without the bot's echo in front of it: the caller's own words.

    The echo comes first (the caller answers after the bot, or talks over it):
    "... what happened? A pipe burst" → "pipe burst" (a word of the caller's own that
    the bot also said, right after the echo, goes with it). The echo is the longest
    start of the transcript whose words match played words, in order, for
    ``ECHO_SHARE`` of them and at least ``MIN_ECHO_WORDS`` (or all among the
    last ``tail`` words played; None: among any of ``played``, the words played
    while the utterance was heard), ending on a matched word or a repeat.
    """
    tokens = list(_WORD.finditer(transcript))
    played_words = words_of(played)
    if not tokens or not played_words:
        return transcript
    tail_words = played_words if tail is None else played_words[-tail:]
    distinct: list[str] = []
    in_tail = True
    previous = [0] * (len(played_words) + 1)
    cut = 0  # tokens that are echo
    for i, token in enumerate(tokens):
        word = token.group().casefold()
        if any(_alike(word, kept) for kept in distinct):
            if cut == i:  # a recogniser's repeat of the echo ("got it got it")
                cut = i + 1
            continue
        distinct.append(word)
        in_tail = in_tail and any(_alike(word, said) for said in tail_words)
        row = [0] * (len(played_words) + 1)
        for j, said in enumerate(played_words, start=1):
            row[j] = previous[j - 1] + 1 if _alike(word, said) else max(previous[j], row[j - 1])
        matched, extended = row[-1], row[-1] > previous[-1]
        previous = row
        if extended and matched >= ECHO_SHARE * len(distinct):
            if matched >= MIN_ECHO_WORDS or in_tail:
                cut = i + 1
    return transcript[tokens[cut].start() :] if cut < len(tokens) else ""


def is_echo(transcript: str, played: str, tail: int | None = TAIL_WORDS) -> bool:
    """Whether ``transcript`` is only the bot's own ``played`` words coming back
    (``tail`` as for :func:`caller_part`)."""
    return bool(words_of(transcript)) and not words_of(caller_part(transcript, played, tail))


class Progress(Protocol):
    """A sentence as it is played (``voice_turns.SpokenSentence``)."""

    @property
    def text(self) -> str: ...

    @property
    def played(self) -> int:
        """Frames sent to the line."""

    @property
    def received(self) -> int:
        """Frames synthesised so far."""


def played_part(sentence: Progress) -> str:
    """The words of ``sentence`` its played frames cover, the one being said included."""
    words = sentence.text.split()
    if sentence.played >= sentence.received:
        return sentence.text
    said = math.ceil(len(words) * sentence.played / max(1, sentence.received)) + 1
    return " ".join(words[:said])


def words_between(sentence: Progress, first: int, last: int) -> list[str]:
    """The words of ``sentence`` its frames ``first`` to ``last`` (played) cover, and
    one word either side (words are placed in proportion to the sentence's frames)."""
    words = sentence.text.split()
    total = max(sentence.received, sentence.played, last + 1)
    low = len(words) * first // total
    high = len(words) * last // total
    return words[max(0, low - 1) : high + 2]


@dataclass(slots=True)
class _Played:
    sentence: Progress
    last_heard: float
    playing: bool = True
    # Each played frame's media time: the caller's audio read when it was played (ms).
    frames_at: list[int] = field(default_factory=list)


class PlayedText:
    """The sentences the bot played lately, on the call's monotonic clock."""

    def __init__(self) -> None:
        self._sentences: deque[_Played] = deque(maxlen=MAX_SENTENCES)
        self._quiet_since = 0.0

    def sentence_started(self, sentence: Progress, now: float) -> None:
        self._stop(now)
        self._sentences.append(_Played(sentence, now))

    def resumed(self) -> None:
        """The bot plays on in the sentence it stopped in."""
        if self._sentences:
            self._sentences[-1].playing = True

    def stopped(self, now: float) -> None:
        """The bot went quiet: a sentence ended, was paused or was cut."""
        self._stop(now)

    def _stop(self, now: float) -> None:
        for sentence in self._sentences:
            if sentence.playing:
                sentence.playing = False
                sentence.last_heard = now
        self._quiet_since = now

    def frame_played(self, media_ms: int) -> None:
        """A frame of the last sentence started went to the line when ``media_ms`` of
        the caller's audio had been read."""
        if self._sentences:
            self._sentences[-1].frames_at.append(media_ms)

    def during(self, start_ms: int, end_ms: int) -> str:
        """What the bot played that can come back as echo in caller audio from
        ``start_ms`` to ``end_ms`` (media time): from ``ECHO_LEAD_MS`` before it on."""
        since = start_ms - ECHO_LEAD_MS
        said: list[str] = []
        for played in self._sentences:
            at = played.frames_at
            first = bisect.bisect_left(at, since)
            last = bisect.bisect_right(at, end_ms) - 1
            if first <= last:
                said.extend(words_between(played.sentence, first, last))
        return " ".join(said)

    def recent(self, now: float) -> str:
        """What the bot played in the last ``ECHO_WINDOW_SEC`` (and is playing)."""
        return " ".join(
            played_part(s.sentence)
            for s in self._sentences
            if s.playing or now - s.last_heard <= ECHO_WINDOW_SEC
        )

    def bot_audible(self, now: float) -> bool:
        """Whether speech starting now can be the bot's echo (it plays or just stopped)."""
        if any(s.playing for s in self._sentences):
            return True
        return bool(self._sentences) and now - self._quiet_since <= ECHO_TAIL_SEC
