"""Self-corrections: "on the fourth, no, sorry, the fifth".

A caller who corrects themselves says a marker ("no, sorry", "I mean", "wait,",
"scratch that") and then the value again. The utterance is cut at each marker into
attempts; a reader takes each value from the latest attempt that names one, so what
the caller said last wins and an attempt that names nothing of that kind ("no,
sorry, …um") changes nothing.

Markers are of two strengths. Strong ones ("no, sorry", "no wait", "I mean",
"scratch that", "let me correct that") are corrections wherever they stand. Weak ones
("no,", "sorry,", "wait,", "actually,") are only markers when a pause follows them;
they are enough to tell typed values apart (a date cannot be half of another date) but
free text is only cut at strong ones ("the pipe burst, sorry, I'm a bit upset").
"""

from __future__ import annotations

import re

from switchboard_brain.extract.spans import Span

_PAUSE = r"[,.;:!\u2026\-]+"
_STRONG = (
    r"no+(?:" + _PAUSE + r")?\s*(?:sorry|wait|hold on|i mean|actually|my mistake|my bad)\b"
    r"|(?:sorry|wait|hold on|oops|actually)(?:" + _PAUSE + r")?\s*no\b"
    r"|i mean\b|i meant\b|scratch that|correction\b|or rather\b|make that\b"
    r"|let me (?:correct|rephrase)(?: that| myself)?|i misspoke|my mistake|my bad"
)
_WEAK = r"(?:no+|nope|sorry|wait|oops|actually|rather)(?=" + _PAUSE + r")"
# "I'm sorry," is politeness, not a correction.
_NOT_AFTER = r"(?<!i'm )(?<!i am )(?<!so )(?<!very )(?<!really )"
_STRONG_RE = re.compile(r"(?i)" + _NOT_AFTER + r"\b(?:" + _STRONG + r")(?:\s*" + _PAUSE + r")?")
_ANY_RE = re.compile(
    r"(?i)" + _NOT_AFTER + r"\b(?:(?:" + _STRONG + r")|" + _WEAK + r")(?:\s*" + _PAUSE + r")?"
)


def _attempts(text: str, marker: re.Pattern[str]) -> list[Span]:
    spans: list[Span] = []
    start = 0
    for match in marker.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans or [(0, len(text))]


def attempts(text: str) -> list[Span]:
    """The stretches of ``text`` between correction markers (any strength), in order."""
    return _attempts(text, _ANY_RE)


def last_attempt(text: str) -> Span:
    """Where the text after the last strong correction marker is: free text as corrected."""
    return _attempts(text, _STRONG_RE)[-1]


def is_correction(text: str) -> bool:
    """Whether the caller corrects something (a value they gave before, or in this turn)."""
    return _ANY_RE.search(text) is not None
