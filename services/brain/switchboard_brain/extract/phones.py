"""Phone numbers, typed or spoken, to E.164 ("four one five, five five five, oh one double oh").

Rules where speech is ambiguous:

- "oh", "o" and "nought" are zero next to other digits ("oh, my number is…" is not);
  "double five" is 55, "triple oh" is 000.
- Callers read a number in the groups of their country ("oh two oh, seven nine four
  six…" in the UK, "oh six, twelve, thirty-four…" in France, "four fifteen, eight
  hundred…" in the US): inside a group number words add up ("thirty four" = 34,
  "four hundred fifteen" = 415, "oh one hundred" = 0100); a pause (a comma, a dash,
  "…") ends a group, so "twenty, one" is 20 then 1.
- Recognisers write some digits as words ("for", "to", "won", "ate"); those are read
  as digits only right next to another digit.
- A number is a run of such words and digits; fillers ("um", "uh") do not break it.
  A run right after a month name ("March 3 2020 26", a date as Whisper writes it) or
  right before "am"/"pm" ("2 30 p.m.") is a date or a time, never part of a number.
  Each run is validated in the callee's region (``phonenumbers``); when no run alone is
  a valid number, the runs of the answer joined together are tried.
"""

from __future__ import annotations

import phonenumbers

from switchboard_brain.extract.spans import Found, Token, tokenize

_UNITS = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000}
_REPEATS = {"double": 2, "triple": 3, "treble": 3}
_ZEROS = frozenset({"oh", "o", "nought"})  # also a letter, an interjection: need a digit next
# Words a recogniser writes for a digit it heard ("call me at for 1-5-5…").
_HOMOPHONES = {"for": 4, "to": 2, "too": 2, "won": 1, "ate": 8}
_SEPARATORS = frozenset({",", ".", "\u2026", "-", "(", ")", "/", ":", "um", "uh", "er", "erm"})
MIN_DIGITS = 5
_MONTH_NAMES = frozenset(
    "january jan february feb march mar april apr may june jun july jul august aug "
    "september sept sep october oct november nov december dec".split()
)


def _definite(token: str) -> bool:
    return (
        token.isdigit()
        or token in _TEENS
        or token in _TENS
        or token in _SCALES
        or (token in _UNITS and token not in _ZEROS)
    )


def _digit_marks(tokens: list[Token]) -> list[bool]:
    """Which tokens belong to a number: digits surely, "oh"/"double"/"plus"/"for" by
    their neighbours."""
    words = [t.text for t in tokens]
    marks = [_definite(w) for w in words]

    def beside(i: int) -> bool:
        return (i > 0 and marks[i - 1]) or (i + 1 < len(words) and marks[i + 1])

    for _ in range(2):  # twice, for chains like "double oh seven"
        for i, word in enumerate(words):
            if marks[i]:
                continue
            after = i + 1 < len(words) and marks[i + 1]
            if word in _ZEROS or word in _HOMOPHONES:
                repeated = i > 0 and words[i - 1] in _REPEATS
                marks[i] = beside(i) or repeated
            elif word in _REPEATS or word in ("+", "plus"):
                marks[i] = after or (i + 1 < len(words) and words[i + 1] in _ZEROS)
            elif word == "and":
                marks[i] = i > 0 and words[i - 1] in _SCALES and after
    return marks


def _runs(tokens: list[Token]) -> list[list[Token]]:
    """Maximal stretches of number tokens, with the pauses inside them."""
    marks = _digit_marks(tokens)
    runs: list[list[Token]] = []
    current: list[Token] = []
    for token, mark in zip(tokens, marks, strict=True):
        if mark:
            current.append(token)
        elif current and token.text in _SEPARATORS:
            current.append(token)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    for run in runs:
        while run and run[-1].text in _SEPARATORS:
            run.pop()
    return runs


def _unit(word: str) -> int | None:
    if word in _UNITS:
        return _UNITS[word]
    return _HOMOPHONES.get(word)


def _below_hundred(words: list[str], i: int) -> tuple[int, int] | None:
    """ "thirty four" / "fifteen" / "seven" at ``i`` → (value, next index)."""
    word = words[i] if i < len(words) else ""
    if word in _TENS:
        unit = _unit(words[i + 1]) if i + 1 < len(words) else None
        if unit and words[i + 1] not in _ZEROS:
            return _TENS[word] + unit, i + 2
        return _TENS[word], i + 1
    if word in _TEENS:
        return _TEENS[word], i + 1
    unit = _unit(word)
    if unit:
        return unit, i + 1
    return None


def _number_at(words: list[str], i: int) -> tuple[str, int]:
    """The digits the number words from ``i`` stand for, and the index after them."""
    word = words[i]
    if word.isdigit():
        scale = words[i + 1] if i + 1 < len(words) else ""
        if scale in _SCALES:
            return word + "0" * (len(str(_SCALES[scale])) - 1), i + 2
        return word, i + 1
    lead = 1  # a bare "hundred" is one hundred
    if word not in _SCALES:
        read = _below_hundred(words, i)
        if read is None:  # "oh", "zero"
            return str(_UNITS.get(word, 0)), i + 1
        lead, i = read
    total = 0
    while lead and i < len(words) and words[i] in _SCALES:
        total += lead * _SCALES[words[i]]
        lead, i = _after_scale(words, i + 1)
    return str(total + lead), i


def _after_scale(words: list[str], i: int) -> tuple[int, int]:
    """What continues a number after "hundred"/"thousand": "and five", "fifteen", "five
    hundred". A lone digit starts the next group instead ("one eight hundred five five
    five…" is 1 800 555…)."""
    joined = i < len(words) and words[i] == "and"
    read = _below_hundred(words, i + 1 if joined else i)
    if read is None:
        return 0, i
    value, after = read
    scaled = after < len(words) and words[after] in _SCALES
    if value < 10 and not joined and not scaled:
        return 0, i
    return value, after


def spoken_digits(text: str) -> str:
    """All the digits (and a leading ``+``) a caller said or typed, in order."""
    return "".join(_run_digits(run) for run in _runs(tokenize(text)))


def _unhyphenated(run: list[Token]) -> list[Token]:
    """Without the hyphens inside written number words ("thirty-four" is one group)."""
    kept = []
    for i, token in enumerate(run):
        glued = 0 < i < len(run) - 1 and run[i - 1].end == token.start == run[i + 1].start - 1
        if token.text == "-" and glued and run[i - 1].text.isalpha() and run[i + 1].text.isalpha():
            continue
        kept.append(token)
    return kept


def _run_digits(run: list[Token]) -> str:
    """One run as digits; a pause ends a group, so words never add up across it."""
    out: list[str] = []
    repeat = 1
    group: list[str] = []
    for token in [*_unhyphenated(run), Token(",", 0, 0)]:
        if token.text not in _SEPARATORS:
            group.append(token.text)
            continue
        i = 0
        while i < len(group):
            word = group[i]
            if word in _REPEATS:
                repeat = _REPEATS[word]
                i += 1
                continue
            if word in ("+", "plus", "and"):
                if word != "and" and not out:
                    out.append("+")
                i += 1
                continue
            digits, i = _number_at(group, i)
            out.append(digits[0] * repeat + digits[1:])
            repeat = 1
        group = []
    return "".join(out)


def _to_e164(digits: str, region: str | None) -> str | None:
    if len(digits.lstrip("+")) < MIN_DIGITS:
        return None
    if not digits.startswith("+") and digits.startswith("00"):
        digits = "+" + digits[2:]
    try:
        number = phonenumbers.parse(digits, None if digits.startswith("+") else (region or "US"))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_date_or_time(run: list[Token], tokens: list[Token]) -> bool:
    """Whether the run is the day and year after a month name or the clock before am/pm."""
    first = tokens.index(run[0])
    after = tokens.index(run[-1]) + 1
    if first > 0 and tokens[first - 1].text in _MONTH_NAMES:
        return True
    if len(_run_digits(run)) > 4:  # "415 392 0186 am I right?" is a number
        return False
    following = [t.text for t in tokens[after : after + 4] if t.text != "."]
    return following[:1] in (["am"], ["pm"]) or following[:2] in (["a", "m"], ["p", "m"])


def find_phones(text: str, region: str | None) -> list[Found]:
    """Every valid number in ``text``, in E.164, in the order said."""
    tokens = tokenize(text)
    runs = [run for run in _runs(tokens) if not _is_date_or_time(run, tokens)]
    found = []
    for run in runs:
        e164 = _to_e164(_run_digits(run), region)
        if e164 is not None:
            found.append(Found(e164, (run[0].start, run[-1].end)))
    if found or len(runs) < 2:
        return found
    # "four one five, and then five five five…": the pieces only make sense together.
    joined = _to_e164("".join(_run_digits(run) for run in runs), region)
    return [Found(joined, (runs[0][0].start, runs[-1][-1].end))] if joined else []


def amend_phone(said: str, correction: str, region: str | None) -> Found | None:
    """The number in ``said`` with its last digits replaced by the digits of
    ``correction`` ("… oh one eight six, sorry, oh one eight seven"), when ``correction``
    alone is too short to be a number; None otherwise. The span is ``said``'s."""
    tail = spoken_digits(correction)
    numbers = _runs(tokenize(said))
    if not tail or tail.startswith("+") or not numbers:
        return None
    digits = "".join(_run_digits(run) for run in numbers)
    if len(tail) >= len(digits.lstrip("+")) - 2:  # a whole number, not its end
        return None
    e164 = _to_e164(digits[: -len(tail)] + tail, region)
    return Found(e164, (numbers[0][0].start, numbers[-1][-1].end)) if e164 else None


def parse_phone(text: str, region: str | None) -> str | None:
    """The number in E.164, read in ``region`` (ISO 3166, e.g. "US") when it has no
    country code; None when it is not a valid number there. The last one said wins."""
    found = find_phones(text, region)
    return found[-1].value if found else None


def speak_phone(e164: str) -> str:
    """Digit by digit, grouped as written, for reading back aloud: "plus 1, 4 1 5, 5 5 5, 0 1 0 0".

    A voice reads "415" as "four hundred fifteen"; single digits it reads one by one.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    groups = written.lstrip("+").replace("-", " ").split()
    return "plus " + ", ".join(" ".join(group) for group in groups)
