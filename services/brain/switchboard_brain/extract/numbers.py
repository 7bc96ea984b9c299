"""Spoken numbers → digits ("twenty third" → "23rd", "two thousand twenty six" → "2026")."""

from __future__ import annotations

import re

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
ORDINAL_UNITS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19,
}  # fmt: skip
ORDINAL_TENS = {"twentieth": 20, "thirtieth": 30}
SCALES = {"hundred": 100, "thousand": 1000}

_NUMBER_WORDS = {*UNITS, *TENS, *ORDINAL_UNITS, *ORDINAL_TENS, *SCALES}
_WORD_HYPHEN_RE = re.compile(r"(?<=[a-z])-(?=[a-z])")


class _Group:
    """A number being read word by word."""

    __slots__ = ("current", "last", "ordinal", "total")

    def __init__(self) -> None:
        self.total = 0
        self.current = 0
        self.last = ""  # "unit", "teen", "tens", "scale"
        self.ordinal = False

    def accepts(self, word: str) -> bool:
        """Whether ``word`` continues this number rather than starting a new one."""
        if self.ordinal or not self.last:
            return not self.ordinal
        if word in SCALES:
            return self.last in ("unit", "teen", "tens") and (self.current or self.total) > 0
        if word in TENS or word in ORDINAL_TENS:
            return self.last == "scale"
        if word in UNITS or word in ORDINAL_UNITS:
            value = UNITS.get(word, ORDINAL_UNITS.get(word, 0))
            if self.last == "tens":
                return 0 < value < 10
            return self.last == "scale"
        return False

    def add(self, word: str) -> None:
        if word in SCALES:
            scale = SCALES[word]
            if scale == 100:
                self.current = (self.current or 1) * 100
            else:
                self.total += (self.current or 1) * scale
                self.current = 0
            self.last = "scale"
            return
        if word in ORDINAL_UNITS or word in ORDINAL_TENS:
            self.ordinal = True
        value = UNITS.get(word) or TENS.get(word) or ORDINAL_UNITS.get(word) or 0
        value = value or ORDINAL_TENS.get(word, 0)
        self.current += value
        if word in TENS or word in ORDINAL_TENS:
            self.last = "tens"
        else:
            self.last = "teen" if value >= 10 else "unit"

    def render(self) -> str:
        value = self.total + self.current
        return f"{value}th" if self.ordinal else str(value)


def words_to_digits(text: str) -> str:
    """Replaces runs of number words with digits; ordinals keep a ``th`` suffix.

    "the twenty third of march two thousand twenty six" → "the 23th of march 2026".
    Two separate numbers stay separate ("twenty twenty six" → "20 26"); callers that
    expect a year join such pairs themselves. "and" inside a number is dropped
    ("one hundred and five" → "105").
    """
    words = _WORD_HYPHEN_RE.sub(" ", text).split()
    out: list[str] = []
    group: _Group | None = None
    for i, word in enumerate(words):
        if word == "and" and group is not None and group.last == "scale":
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if nxt in UNITS or nxt in TENS or nxt in ORDINAL_UNITS or nxt in ORDINAL_TENS:
                continue
        duration = word == "second" and group is None and _is_time_unit(words, i)
        if word in _NUMBER_WORDS and not duration:
            if group is not None and group.accepts(word):
                group.add(word)
                continue
            if group is not None:
                out.append(group.render())
            if word in SCALES:
                group = _Group()
                group.current = 1
                group.last = "unit"
                group.add(word)
                continue
            group = _Group()
            group.add(word)
            continue
        if group is not None:
            out.append(group.render())
            group = None
        out.append(word)
    if group is not None:
        out.append(group.render())
    return " ".join(out)


def _is_time_unit(words: list[str], i: int) -> bool:
    """ "a second" / "one second" is a duration, not an ordinal."""
    return i > 0 and words[i - 1] in ("a", "one", "per")
