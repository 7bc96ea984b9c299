"""Cutting a turn's text into sentences for sentence-by-sentence synthesis."""

from __future__ import annotations

import re

from switchboard.errors import InvalidArgument

# One SpeakText is a sentence or a few; more is a client bug, refused with a clear message.
MAX_TEXT_CHARS = 5_000
# A "sentence" longer than this is cut at a clause or word boundary.
MAX_SENTENCE_CHARS = 300
# The first sentence of a turn is cut at its first clause boundary when longer than
# this, so the caller hears audio sooner (Piper renders a whole chunk at once).
FIRST_CLAUSE_CHARS = 40

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_CLAUSE = re.compile(r"(?<=[,;:])\s+")


def check_text(text: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidArgument(
            f"text is {len(text)} characters; send at most {MAX_TEXT_CHARS} per SpeakText "
            "(a sentence or a few)"
        )
    return text


def _cut_long(sentence: str) -> list[str]:
    pieces: list[str] = []
    rest = sentence
    while len(rest) > MAX_SENTENCE_CHARS:
        window = rest[:MAX_SENTENCE_CHARS]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(": "))
        if cut < MAX_SENTENCE_CHARS // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = MAX_SENTENCE_CHARS - 1
        pieces.append(rest[: cut + 1].strip())
        rest = rest[cut + 1 :].strip()
    if rest:
        pieces.append(rest)
    return pieces


def sentences(text: str, first_of_turn: bool = False) -> list[str]:
    """Sentences of ``text``, none longer than MAX_SENTENCE_CHARS, empty ones dropped."""
    result: list[str] = []
    for raw in _SENTENCE_END.split(text):
        sentence = " ".join(raw.split())
        if sentence:
            result.extend(_cut_long(sentence))
    if first_of_turn and result and len(result[0]) > FIRST_CLAUSE_CHARS:
        head, *tail = _CLAUSE.split(result[0], maxsplit=1)
        if tail and len(head) >= 5:
            result[0:1] = [head, tail[0]]
    return result
