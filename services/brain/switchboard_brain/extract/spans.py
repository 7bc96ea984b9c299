"""Values found in an utterance together with where they were said.

Extractors that can find several values in one answer ("it was yesterday, and my
e-mail is …") return :class:`Found` items whose ``span`` indexes the original text, so
a caller can blank out what one extractor used before the next one reads the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

Span = tuple[int, int]


@dataclass(frozen=True)
class Found:
    """A canonical value and the characters of the utterance it was read from."""

    value: str
    span: Span


@dataclass(frozen=True)
class Token:
    """A word, number or punctuation mark and where it stands in the utterance."""

    text: str
    start: int
    end: int


_TOKEN_RE = re.compile(r"\+|\d+|[a-z]+(?:'[a-z]+)?|[,.;:!?\u2026()\-/]")


def tokenize(text: str) -> list[Token]:
    """Lower-cased words, digit runs, ``+`` and punctuation marks, with their offsets."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(text.lower())]


def mask(text: str, spans: Iterable[Span]) -> str:
    """``text`` with the characters of ``spans`` blanked out; offsets stay valid."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
