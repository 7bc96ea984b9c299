"""The barge-in rule: when the caller's speech interrupts the bot, and when it does not.

:func:`judge` is the rule; :class:`switchboard_dialer.media.barge_in_state.BargeIn`
is the state machine that applies it to one call.

The speech service emits ``speech_started`` once the caller has spoken for
``vad_cutoff_timeout_ms`` (its endpointer reads the live flag). If the bot is
talking then, the dialer *suspends* at once: playout stops within one frame and
the carrier's queue is cleared, but the turn's audio is kept. The final
transcript of that utterance decides:

* words that are not only a backchannel → **interruption**: the turn is
  cancelled, the brain hears what the caller heard, then gets the caller's turn;
* a backchannel ("mm-hmm", "okay", "yeah", "uh-huh", "right", …) → the bot
  **resumes** where it stopped, and the brain is not disturbed;
* the bot's own words coming back (a speakerphone's echo, see ``echo``) → the
  bot **resumes** (words of the caller's after the echo are judged on their own),
  and on that line later speech waits for words that are not echo before it stops
  the bot (else every resume would echo and pause again);
* no words at all (noise, a cough), or only single letters and interjections
  ("a l l l", "oh oh oh oh": a small recogniser's reading of a faint sound) → a
  **false interruption**: the bot resumes where it stopped.

Resuming where it stopped (not re-saying the sentence) keeps the heard-text
accounting exact; the caller missed at most the frame in flight.
"""

from __future__ import annotations

import re
from enum import StrEnum

from switchboard_dialer.media.echo import TAIL_WORDS, caller_part

BACKCHANNELS = frozenset(
    {"mm", "mhm", "mmhmm", "mm-hmm", "hmm", "uh-huh", "uhhuh", "uh", "huh", "ok", "okay"}
    | {"yeah", "right", "i see"}
)
# What a small recogniser makes of faint sound (the first echo of a greeting, cut
# short by the pause): interjections and a letter or two, often repeated ("a l l l l",
# "oh oh oh oh"). Nothing a caller says to stop the bot is only these.
NOISE_WORDS = frozenset({"oh", "ah", "uh", "um", "er", "hmm", "mm", "eh"})
# Not "yes" or "sure": said over the end of a question, they are answers.
# A backchannel is short; "yeah, and also ..." is a turn.
MAX_BACKCHANNEL_WORDS = 3
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")


def is_backchannel(text: str) -> bool:
    """True when every word of the utterance is a backchannel token ("okay, yeah")."""
    words = _WORD.findall(text.casefold())
    if not words or len(words) > MAX_BACKCHANNEL_WORDS:
        return False
    joined = " ".join(words)
    return joined in BACKCHANNELS or all(word in BACKCHANNELS for word in words)


def is_noise(text: str) -> bool:
    """True when the utterance is only interjections and one or two letters (repeated
    or not; a caller spelling something says more letters, or digits)."""
    words = _WORD.findall(text.casefold())
    if not words or re.search(r"\d", text):
        return False
    letters = {word for word in words if word not in NOISE_WORDS}
    return all(len(word) == 1 for word in letters) and len(letters) <= 2


def has_words(text: str) -> bool:
    return bool(re.search(r"\w", text))


class Verdict(StrEnum):
    INTERRUPT = "interrupt"  # cancel the turn; the caller's words are a new turn
    RESUME_BACKCHANNEL = "backchannel"  # resume; the words are not sent to the brain
    RESUME_FALSE = "false"  # resume; nothing was said
    RESUME_ECHO = "echo"  # resume; the words were the bot's own, heard back


def judge(transcript: str, played: str = "", tail: int | None = TAIL_WORDS) -> Verdict:
    """What a suspended turn becomes, given the final transcript of the barge-in and
    what the bot played lately (``played``; ``tail`` as for ``echo.caller_part``)."""
    if not has_words(transcript):
        return Verdict.RESUME_FALSE
    if is_backchannel(transcript):
        return Verdict.RESUME_BACKCHANNEL
    if is_noise(transcript):  # the recogniser's noise: as if nothing was said
        return Verdict.RESUME_FALSE
    words = caller_part(transcript, played, tail) if played else transcript
    if not has_words(words):
        return Verdict.RESUME_ECHO
    if is_backchannel(words):
        return Verdict.RESUME_BACKCHANNEL
    return Verdict.INTERRUPT
