"""French speech read by the English extractors: words rewritten, values read back in French.

The extractors (:mod:`.dates`, :mod:`.phones`, :mod:`.emails`) read English words and
digits. :func:`english_forms` rewrites what a French caller says into those forms:
number words become digits, taking French pairs as one number ("zéro six, douze,
trente-quatre" → "0 6, 12, 34"; "soixante-dix-huit" → 78, "quatre-vingt-douze" → 92,
"deux mille vingt-six" → 2026), months and weekdays become their English names, and
the date, time and e-mail words become theirs ("le trois mars à quatorze heures
trente" → "the 3 march at 14:30", "lundi dernier" → "last monday", "jean point dupont
arobase exemple point fr" → "jean dot dupont at exemple dot fr"). The rewrite is for
finding values only: free text is kept as the caller said it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import phonenumbers

from switchboard_brain.extract.numbers import ORDINAL_TENS, ORDINAL_UNITS

UNITS = {
    "zéro": 0, "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
    "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12,
    "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
}  # fmt: skip
TENS = {"vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60}
MONTHS = {
    "janvier": "january", "février": "february", "fevrier": "february", "mars": "march",
    "avril": "april", "mai": "may", "juin": "june", "juillet": "july", "août": "august",
    "aout": "august", "septembre": "september", "octobre": "october",
    "novembre": "november", "décembre": "december", "decembre": "december",
}  # fmt: skip
WEEKDAYS = {
    "lundi": "monday", "mardi": "tuesday", "mercredi": "wednesday", "jeudi": "thursday",
    "vendredi": "friday", "samedi": "saturday", "dimanche": "sunday",
}  # fmt: skip
_MONTH_NAMES = [
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
]  # fmt: skip
_WEEKDAY = "(" + "|".join(WEEKDAYS) + ")"
_NUMBER_WORD = "|".join(
    sorted([*UNITS, *TENS, "cent", "cents", "mille", "et"], key=len, reverse=True)
)
_NUMBER_RUN_RE = re.compile(rf"\b(?:{_NUMBER_WORD})(?:[\s-]+(?:{_NUMBER_WORD}))*\b", re.IGNORECASE)
# Whole phrases first, then single words (longest first), each on word boundaries.
_PHRASES = (
    (r"avant[- ]hier", "the day before yesterday"),
    (r"apr[èe]s[- ]demain", "the day after tomorrow"),
    (r"aujourd'hui", "today"),
    (r"hier soir", "yesterday evening"),
    (r"hier matin", "yesterday morning"),
    (r"hier après[- ]midi", "yesterday afternoon"),
    (r"ce matin", "this morning"),
    (r"cet apr[èe]s[- ]midi", "this afternoon"),
    (r"ce soir", "this evening"),
    (r"cette nuit", "tonight"),
    (rf"{_WEEKDAY} dernier", r"last \1"),
    (rf"{_WEEKDAY} prochain", r"next \1"),
    (r"la semaine derni[èe]re", "last week"),
    (r"le mois dernier", "last month"),
    (r"l'ann[ée]e derni[èe]re", "last year"),
    (r"la semaine prochaine", "next week"),
    (r"il y a (\d+) jours?", r"\1 days ago"),
    (r"il y a (\d+) semaines?", r"\1 weeks ago"),
    (r"(\d{1,2}) ?(?:heures?|h) ?(\d{1,2})\b", r"\1:\2"),
    (r"(\d{1,2}) ?(?:heures?|h) et demie", r"\1:30"),
    (r"(\d{1,2}) ?(?:heures?|h) et quart", r"\1:15"),
    (r"(\d{1,2}) ?(?:heures?|h)\b", r"\1:00"),
    (r"midi et demi", "12:30"),
    (r"\bmidi\b", "noon"),
    (r"\bminuit\b", "midnight"),
    (r"le premier", "the 1st"),
    (r"\bpremier\b", "1st"),
    (r"tiret bas", "underscore"),
    (r"arobase|arrobase|arobas", "at"),
    (r"\bpoint\b", "dot"),
    (r"\btiret\b", "dash"),
    (r"\bhier\b", "yesterday"),
    (r"\bsoir\b", "evening"),
    (r"\bmatin\b", "morning"),
    (r"\bapr[èe]s[- ]midi\b", "afternoon"),
    (r"\bdemain\b", "tomorrow"),
    # Glue words the e-mail reader stops at ("c'est jean point …" → "it's jean dot …").
    (r"c'est", "it's"),
    (r"c'[ée]tait", "it was"),
    (r"\bmon\b", "my"),
    (r"\badresse\b", "address"),
    (r"\bcourriel\b", "email"),
    (r"\best\b", "is"),
    (r"\bà\b", "at"),
    (r"\bvers\b", "around"),
    (r"\ble\b", "the"),
)
_REWRITES = [(re.compile(rf"\b{pattern}", re.IGNORECASE), out) for pattern, out in _PHRASES]
_WORDS = {**MONTHS, **WEEKDAYS}
_WORD_RE = re.compile(r"\b(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\b")
_APOSTROPHE_RE = re.compile("[\u2019`]")
_DAY_OF_MONTH_RE = re.compile(
    r"\b([1-9]|[12][0-9]|3[01])( (?:" + "|".join(sorted(set(MONTHS.values()))) + r")\b)"
)


def _teen_after(words: list[str], i: int, base: int) -> tuple[int, int]:
    """``base`` (60 or 80) plus what follows from ``words[i]``: "dix-huit" → +18, "douze"
    → +12, "et onze" → +11, "un" → +1; the words taken after ``base``'s own."""
    word = words[i] if i < len(words) else ""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if word == "et" and nxt in ("un", "une", "onze"):
        return base + UNITS[nxt], 2
    if word == "dix" and nxt in UNITS and 7 <= UNITS[nxt] <= 9:
        return base + 10 + UNITS[nxt], 2
    if word in UNITS and 1 <= UNITS[word] <= 16:
        return base + UNITS[word], 1
    return base, 0


def _below_hundred(words: list[str], i: int) -> tuple[int, int] | None:
    """The number 0-99 said from ``words[i]`` and how many words it took, French-style:
    "soixante dix huit" is 78, "quatre vingt douze" 92, "vingt et un" 21."""
    word = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if word == "quatre" and nxt in ("vingt", "vingts"):
        value, used = _teen_after(words, i + 2, 80)
        return value, 2 + used
    if word == "soixante":
        value, used = _teen_after(words, i + 1, 60)
        return value, 1 + used
    if word in TENS:
        value, used = _teen_after(words, i + 1, TENS[word])
        if value - TENS[word] > 9:  # "vingt douze" is two numbers
            return TENS[word], 1
        return value, 1 + used
    if word == "dix" and nxt in UNITS and 7 <= UNITS[nxt] <= 9:
        return 10 + UNITS[nxt], 2
    if word in UNITS:
        return UNITS[word], 1
    return None


def _number_at(words: list[str], i: int) -> tuple[int, int] | None:
    """A whole number from ``words[i]`` (hundreds and thousands included), and its length."""
    total, j = 0, i
    part: int | None = None
    while j < len(words):
        word = words[j]
        if word in ("mille",):
            total += (part or 1) * 1000
            part, j = None, j + 1
            continue
        if word in ("cent", "cents"):
            part = (part or 1) * 100
            j += 1
            continue
        if part is not None and part % 100 != 0:
            break  # "douze trente" is two numbers, not one
        below = _below_hundred(words, j)
        if below is None:
            break
        if part is not None and part >= 100 and below[0] == 0:
            break
        if part is None and total == 0 and below[0] == 0:
            return 0, j - i + 1  # "zéro" stands alone
        part = (part or 0) + below[0]
        j += below[1]
    if j == i:
        return None
    return total + (part or 0), j - i


def numbers_to_digits(text: str) -> str:
    """French number words as digits, each number said as one: "zéro six, douze,
    trente-quatre" → "0 6, 12, 34"; "deux mille vingt-six" → "2026"."""

    def digits(match: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s-]+", match.group(0).lower()) if w]
        out: list[str] = []
        i = 0
        while i < len(words):
            if words[i] == "et":
                out.append("et")
                i += 1
                continue
            found = _number_at(words, i)
            if found is None:
                out.append(words[i])
                i += 1
                continue
            out.append(str(found[0]))
            i += found[1]
        return " ".join(out)

    return _NUMBER_RUN_RE.sub(digits, text)


def english_forms(text: str) -> str:
    """What a French caller said, in the words and digits the extractors read."""
    lowered = unicodedata.normalize("NFC", _APOSTROPHE_RE.sub("'", text.lower()))
    rewritten = numbers_to_digits(lowered)
    for pattern, out in _REWRITES:
        rewritten = pattern.sub(out, rewritten)
    rewritten = _WORD_RE.sub(lambda m: _WORDS[m.group(1)], rewritten)
    # "3 march" → "third march": a day, not digits a phone number could be read from
    # ("le trois mars deux mille vingt-six à quatorze heures trente" is no number).
    return _DAY_OF_MONTH_RE.sub(lambda m: _ordinal_words(int(m.group(1))) + m.group(2), rewritten)


_ORDINAL_WORDS = {n: word for word, n in {**ORDINAL_UNITS, **ORDINAL_TENS}.items()}
_TENS_WORDS = {20: "twenty", 30: "thirty"}


def _ordinal_words(day: int) -> str:
    """3 → "third", 22 → "twenty second" (days of a month, 1-31)."""
    if day in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[day]
    return f"{_TENS_WORDS[day - day % 10]} {_ORDINAL_WORDS[day % 10]}"


def speak_datetime_fr(value: datetime) -> str:
    """How the bot reads a date back in French: "le 3 mars 2026 à 14 h 30"."""
    day = "1er" if value.day == 1 else str(value.day)
    spoken = f"le {day} {_MONTH_NAMES[value.month - 1]} {value.year}"
    if value.hour or value.minute:
        spoken += f" à {value.hour} h {value.minute:02d}" if value.minute else f" à {value.hour} h"
    return spoken


def speak_phone_fr(e164: str) -> str:
    """A number read back in pairs, as the French say them: "06 12 34 56 78"."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
