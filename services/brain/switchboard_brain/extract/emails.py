"""E-mail addresses, typed or spoken ("john dot smith at example dot com").

Spoken forms: "at" / "at sign", "dot" / "period" / "point", "underscore", "dash" /
"hyphen", "plus", spelled letters ("j o h n"), digits as words ("oh" is zero),
"double t" / "triple x", "capital j". An address is read outwards from each "at"
until a word that cannot be part of it ("my", "is", "and", "reach", …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from switchboard_brain.extract.spans import Found

_WRITTEN_RE = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
_VALID_RE = re.compile(
    r"^[a-z0-9](?:[a-z0-9._%+\-]*[a-z0-9_])?@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}$"
)
_WORD_RE = re.compile(r"[^\s,;!?\"\u2026]+")
_SPOKEN = {
    "at": "@", "@": "@", "dot": ".", "period": ".", "point": ".", "underscore": "_",
    "dash": "-", "hyphen": "-", "minus": "-", "plus": "+",
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_REPEATS = {"double": 2, "triple": 3}
_CASE_WORDS = frozenset({"capital", "uppercase", "lowercase", "small"})
# Words that end the address when reading outwards from the "@".
_STOP_WORDS = frozenset(
    "is it's its it was my email e-mail address sure yes yeah yep okay ok so um uh er "
    "that's thats this the here and or thanks thank you please well i me reach contact "
    "write send to use try via on number phone call no sorry wait actually mean".split()
)


# What recognisers hear for the "at" of a spoken address ("john dot smith that example dot
# com"); read as "at" only when no "at" was heard and a "dot" follows within a few words.
_MISHEARD_AT = frozenset({"that", "add", "had", "hat"})
_DOTS = frozenset({"dot", "period", "point"})

_COMMON_TLDS = frozenset("com org net edu gov mil int info biz io app dev name".split())
_SPELLED_RE = re.compile(r"^[a-z0-9](?:-[a-z0-9])+$")  # "j-o-h-n", as recognisers spell
_PAUSES = frozenset(",;!?\u2026")


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int
    pause_after: bool = False  # a comma or full stop follows: an address may end here
    full_stop: bool = False  # the full stop was glued to it: maybe a "dot" written as "."


def _words(text: str) -> list[_Word]:
    """Words with their offsets; a trailing full stop is punctuation, not a "dot"."""
    words = []
    for match in _WORD_RE.finditer(text):
        word = match.group(0).rstrip(".")
        if not word:
            continue
        end = match.start() + len(word)
        pause = len(word) < len(match.group(0)) or text[end : end + 1] in _PAUSES
        spelled = word.replace("-", "") if _SPELLED_RE.match(word) else word
        full_stop = len(word) < len(match.group(0))
        words.append(_Word(spelled, match.start(), end, pause, full_stop))
    return words


def _spoken_forms(words: list[_Word]) -> list[_Word]:
    """Multi-word spellings as one word each: "at sign" → "at", "double t" → "t t"."""
    out: list[_Word] = []
    i = 0
    while i < len(words):
        word, nxt = words[i], words[i + 1] if i + 1 < len(words) else None
        pair = f"{word.text} {nxt.text}" if nxt else ""
        if nxt and pair in ("at sign", "at symbol", "under score"):
            merged = "at" if word.text == "at" else "underscore"
            out.append(_Word(merged, word.start, nxt.end, nxt.pause_after))
            i += 2
        elif nxt and (word.text in _CASE_WORDS or pair in ("upper case", "lower case")):
            skip = 2 if word.text in ("upper", "lower") else 1
            target = words[i + skip] if i + skip < len(words) else None
            if target is None:
                out.append(word)
                i += 1
                continue
            out.append(_Word(target.text, word.start, target.end, target.pause_after))
            i += skip + 1
        elif nxt and word.text in _REPEATS and (len(nxt.text) == 1 or nxt.text in _SPOKEN):
            out.extend(
                _Word(nxt.text, word.start, nxt.end, nxt.pause_after)
                for _ in range(_REPEATS[word.text])
            )
            i += 2
        else:
            out.append(word)
            i += 1
    return out


def _rejoin(words: list[_Word], stops_as_dots: bool = False) -> str:
    """The address characters of ``words``; with ``stops_as_dots`` a full stop between two
    of them is a "dot" ("John. Smith at example. com", as Whisper writes it over a phone)."""
    return "".join(
        _SPOKEN.get(w.text, w.text) + ("." if stops_as_dots and w.full_stop else "")
        for w in words[:-1]
    ) + "".join(_SPOKEN.get(w.text, w.text) for w in words[-1:])


def find_emails(text: str) -> list[Found]:
    """Every address in ``text``, in lower case, in the order said."""
    lowered = text.lower()
    found = [
        Found(m.group(0), m.span())
        for m in _WRITTEN_RE.finditer(lowered)
        if _VALID_RE.match(m.group(0))
    ]
    blanked = list(lowered)
    for item in found:
        start, end = item.span
        blanked[start:end] = " " * (end - start)
    words = _spoken_forms(_words("".join(blanked)))
    spoken = _spoken_emails(words)
    if not spoken and not found and all(w.text != "at" for w in words):
        for i, word in enumerate(words):
            if word.text in _MISHEARD_AT and any(w.text in _DOTS for w in words[i + 1 : i + 4]):
                spoken = _spoken_emails([*words[:i], replace(word, text="at"), *words[i + 1 :]])
                if spoken:
                    break
    if not spoken and not found and all(w.text != "at" for w in words):
        spoken = _without_at(words)
    found.extend(spoken)
    return sorted(found, key=lambda item: item.span)


def _without_at(words: list[_Word]) -> list[Found]:
    """An address whose "at" the recogniser dropped ("john dot smith example dot com"):
    words joined by spoken dots but for exactly one gap, which is where the "@" was.
    Only with two spoken dots and a domain that ends as domains do."""
    start = 0
    for end in [*(i for i, w in enumerate(words) if w.text in _STOP_WORDS), len(words)]:
        stretch = words[start:end]
        start = end + 1
        dots = [i for i, w in enumerate(stretch) if w.text in _DOTS]
        gaps = [
            i
            for i in range(1, len(stretch))
            if stretch[i].text not in _DOTS and stretch[i - 1].text not in _DOTS
        ]
        if len(dots) < 2 or len(gaps) != 1 or stretch[-1].text not in _COMMON_TLDS:
            continue
        at = gaps[0]
        candidate = _rejoin(stretch[:at]) + "@" + _rejoin(stretch[at:])
        if _VALID_RE.match(candidate):
            return [Found(candidate, (stretch[0].start, stretch[-1].end))]
    return []


def _spoken_emails(words: list[_Word]) -> list[Found]:
    """The addresses spoken around each "at", read outwards to the nearest stop word."""
    found: list[Found] = []
    floor = 0  # the spoken address before this "at" ended here
    for at, word in enumerate(words):
        if word.text != "at" or at < floor:
            continue
        start = at
        while start > floor and words[start - 1].text not in _STOP_WORDS | {"at"}:
            start -= 1
        end = at + 1
        while end < len(words) and words[end].text not in _STOP_WORDS | {"at"}:
            end += 1
            dotted = any(w.text in _DOTS or "." in w.text for w in words[at:end])
            if words[end - 1].pause_after and dotted:
                break  # "… at gmail dot com, all one word"
        candidate = _rejoin(words[start:at]) + "@" + _rejoin(words[at + 1 : end])
        loose = _rejoin(words[start:at], True) + "@" + _rejoin(words[at + 1 : end], True)
        # Full stops end sentences too: only with a domain that ends as domains do.
        tld = loose.rpartition(".")[2]
        if loose != candidate and _VALID_RE.match(loose) and (tld in _COMMON_TLDS or len(tld) == 2):
            candidate = loose
        if start < at and _VALID_RE.match(candidate):
            found.append(Found(candidate, (words[start].start, words[end - 1].end)))
            floor = end
    return found


def parse_email(text: str) -> str | None:
    """The address in ``text`` in lower case (the last one said), or None when there is no
    plausible one."""
    found = find_emails(text)
    return found[-1].value if found else None
