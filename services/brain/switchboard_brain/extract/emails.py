"""E-mail addresses, typed or spoken ("john dot smith at example dot com")."""

from __future__ import annotations

import re

_WRITTEN_RE = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
_VALID_RE = re.compile(
    r"^[a-z0-9](?:[a-z0-9._%+\-]*[a-z0-9_])?@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}$"
)
_PUNCT_RE = re.compile(r"[,;!?\"]|\.(?=\s|$)")
_SPOKEN = {
    "at": "@", "@": "@", "dot": ".", "period": ".", "point": ".", "underscore": "_",
    "dash": "-", "hyphen": "-", "minus": "-", "plus": "+",
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_MULTI_WORD = (
    (re.compile(r"\bat (?:sign|symbol)\b"), " at "),
    (re.compile(r"\bunder score\b"), " underscore "),
    (re.compile(r"\b(?:capital|upper case|uppercase|lower case|lowercase|small)\s+"), ""),
    (re.compile(r"\bdouble ([a-z0-9])\b"), r"\1 \1"),
    (re.compile(r"\btriple ([a-z0-9])\b"), r"\1 \1 \1"),
)
# Words that end the address when reading outwards from the "@".
_STOP_WORDS = frozenset(
    "is it's its it was my email e-mail address sure yes yeah yep okay ok so um uh er "
    "that's thats this the here and thanks thank you please well i it".split()
)


def _rejoin(tokens: list[str]) -> str:
    return "".join(_SPOKEN.get(t, t) for t in tokens)


def parse_email(text: str) -> str | None:
    """The address in ``text`` in lower case, or None when there is no plausible one."""
    lowered = text.lower().strip()
    written = _WRITTEN_RE.search(lowered)
    if written and _VALID_RE.match(written.group(0)):
        return written.group(0)
    spoken = _PUNCT_RE.sub(" ", lowered)
    for pattern, replacement in _MULTI_WORD:
        spoken = pattern.sub(replacement, spoken)
    tokens = spoken.split()
    at_positions = [i for i, t in enumerate(tokens) if t in ("at", "@")]
    for at in reversed(at_positions):
        start = at
        while start > 0 and tokens[start - 1] not in _STOP_WORDS:
            start -= 1
        end = at + 1
        while end < len(tokens) and tokens[end] not in _STOP_WORDS:
            end += 1
        candidate = _rejoin(tokens[start:at]) + "@" + _rejoin(tokens[at + 1 : end])
        if _VALID_RE.match(candidate):
            return candidate
    return None
