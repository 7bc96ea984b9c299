"""Streamed text → whole sentences, each released as soon as it is complete.

A sentence ends at ``.``, ``!`` or ``?`` (and their runs, with closing quotes or
brackets) followed by white space, or at a line break. Not at a decimal point
("$29.99"), which has no space after it, nor after a known abbreviation ("Dr.
Smith") or a single initial ("J. Smith"). "a.m." and "p.m." end a sentence only
when the next word starts with a capital, so the splitter waits for that word.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof st jr sr mt ave inc ltd co corp dept approx vs etc e.g i.e fig est "
    "no. tel ext".split()
)
_WAIT_FOR_NEXT = frozenset({"a.m", "p.m", "etc"})
_END_RE = re.compile(r"[.!?…]+[\"')\]]*(?=\s)|\n+")
_MARKUP_RE = re.compile(r"\*\*|__|`|^#+\s*|^\s*[-*•]\s+|^\s*\d+[.)]\s+(?=\D)")
_SPACE_RE = re.compile(r"\s+")


def _last_word(text: str) -> str:
    words = text.split()
    return words[-1].lower().strip("\"'([") if words else ""


def clean_sentence(text: str) -> str:
    """Drops Markdown a voice cannot speak (bold, headings, bullets) and extra spaces."""
    return _SPACE_RE.sub(" ", _MARKUP_RE.sub("", text.strip())).strip()


class SentenceSplitter:
    """Feed text deltas; get back the sentences they completed."""

    def __init__(self) -> None:
        self._buffer = ""
        self.text = ""  # everything fed so far, as sent

    def feed(self, delta: str) -> list[str]:
        self.text += delta
        self._buffer += delta
        sentences: list[str] = []
        start = 0
        for match in _END_RE.finditer(self._buffer):
            end = match.end()
            if match.group().startswith("\n"):
                sentences.append(self._buffer[start : match.start()])
                start = end
                continue
            if "." in match.group() and not self._ends_sentence(self._buffer[start:end], end):
                if self._undecided(self._buffer[start:end], end):
                    break
                continue
            sentences.append(self._buffer[start:end])
            start = end
        self._buffer = self._buffer[start:]
        return [s for s in (clean_sentence(x) for x in sentences) if s]

    def flush(self) -> list[str]:
        """The rest, at the end of the stream."""
        rest, self._buffer = clean_sentence(self._buffer), ""
        return [rest] if rest else []

    def _ends_sentence(self, candidate: str, end: int) -> bool:
        word = _last_word(candidate).rstrip(".!?…\"')]")
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
        if word in _WAIT_FOR_NEXT:
            following = self._buffer[end:].lstrip()
            return bool(following) and following[0].isupper()
        return True

    def _undecided(self, candidate: str, end: int) -> bool:
        """An "a.m." whose next word has not arrived yet: keep the rest for later."""
        word = _last_word(candidate).rstrip(".")
        return word in _WAIT_FOR_NEXT and not self._buffer[end:].strip()
