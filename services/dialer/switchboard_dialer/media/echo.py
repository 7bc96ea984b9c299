"""Echo: the bot's own voice coming back on the caller's line (a speakerphone).

The recogniser hears the echo as the caller speaking, so without a check the
bot would stop for its own words. The check here is on text, after the
recogniser: an utterance whose words are, in order, (mostly) words the bot
played in the last few seconds is echo. Words are compared loosely (a
recogniser mishears "berth" for "birth"), in order (a caller's answer reuses a
word or two of the question, not a run of them).

:class:`PlayedText` keeps what the bot played recently; :func:`is_echo` is the
rule. The barge-in rule (``barge_in.judge``) treats echo like a backchannel:
the bot resumes where it stopped and the words never reach the brain.

Limits, by design: a caller who repeats three or more of the bot's last words
back to it, while it talks, is taken for echo; one or two repeated words
("the red one") are never echo.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from difflib import SequenceMatcher

# Played text this recent can come back as echo (the carrier delay plus the
# recogniser's endpointing is well under it).
ECHO_WINDOW_SEC = 6.0
# Speech that starts this long after the bot went quiet is not its echo.
ECHO_TAIL_SEC = 1.5
# An utterance is echo when this share of its words match played words, in order.
ECHO_SHARE = 0.7
# ... and at least this many words matched: one or two words are an answer.
MIN_ECHO_WORDS = 3
# Two words are the same word when their letters are this alike (difflib ratio).
WORD_LIKENESS = 0.75
MAX_SENTENCES = 32

_WORD = re.compile(r"[\w']+")


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _alike(a: str, b: str) -> bool:
    return a == b or SequenceMatcher(None, a, b).ratio() >= WORD_LIKENESS


def matched_in_order(heard: list[str], played: list[str]) -> int:
    """How many of ``heard``'s words match ``played``'s, in order (a longest common
    subsequence under loose word equality)."""
    if not heard or not played:
        return 0
    previous = [0] * (len(played) + 1)
    for word in heard:
        row = [0] * (len(played) + 1)
        for j, said in enumerate(played, start=1):
            if _alike(word, said):
                row[j] = previous[j - 1] + 1
            else:
                row[j] = max(previous[j], row[j - 1])
        previous = row
    return previous[-1]


def is_echo(transcript: str, played: str) -> bool:
    """Whether ``transcript`` is (mostly) the bot's own ``played`` words coming back."""
    heard = words_of(transcript)
    matched = matched_in_order(heard, words_of(played))
    return matched >= MIN_ECHO_WORDS and matched >= ECHO_SHARE * len(heard)


@dataclass(slots=True)
class _Played:
    text: str
    last_heard: float
    playing: bool = True


class PlayedText:
    """The sentences the bot played lately, on the call's monotonic clock."""

    def __init__(self) -> None:
        self._sentences: deque[_Played] = deque(maxlen=MAX_SENTENCES)
        self._quiet_since = 0.0

    def sentence_started(self, text: str, now: float) -> None:
        self._stop(now)
        self._sentences.append(_Played(text, now))

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

    def recent(self, now: float) -> str:
        """What the bot played in the last ``ECHO_WINDOW_SEC`` (and is playing)."""
        return " ".join(
            s.text for s in self._sentences if s.playing or now - s.last_heard <= ECHO_WINDOW_SEC
        )

    def bot_audible(self, now: float) -> bool:
        """Whether speech starting now can be the bot's echo (it plays or just stopped)."""
        if any(s.playing for s in self._sentences):
            return True
        return bool(self._sentences) and now - self._quiet_since <= ECHO_TAIL_SEC
