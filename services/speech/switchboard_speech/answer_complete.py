"""Is what the caller said so far a complete answer to what the bot asked?

Endpointing asks this of the speculative transcript once the caller has been
silent for a short while (``endpointing.EARLY_SILENCE_MS``): a yes ends the
caller's turn before the full silence window. A wrong yes cuts the caller off,
a wrong no only costs the usual window, so every rule here errs towards no:

* the answer must *end* with the value ("…at example dot com", "…oh one double
  oh", "…at 2 pm"); a trailing "uh", comma, dash or ellipsis is a caller still
  thinking;
* e-mail: an address whose last label is a top-level domain that is rarely
  followed by another one in the caller's region ("co", and "com"/"org"/… where
  "com.au" or "org.uk" are common, are not final);
* phone number: the digits said last form a valid number for the region (or an
  international one after "plus") and are as long as the region's longest
  number, so a number that could still grow is never complete;
* date and time: a day ("yesterday", "Monday", "March 3rd", "3/4") and a clock
  time that closes the answer ("2 pm", "noon", "10 o'clock", "9 in the morning");
* free text: never.

Services share no code but the library, and the brain's extractors read values
rather than judge whether a caller is done, so this small, stricter check lives here.
"""

from __future__ import annotations

import re

import phonenumbers

from switchboard.domain import ClaimFieldType
from switchboard.media import ExpectedAnswer

# A caller trailing off: more is coming.
_TRAILING_RE = re.compile(r"(?:\.\.\.|\u2026|[,;:\-\u2013\u2014])\s*$")
_FILLERS = frozenset({"uh", "um", "er", "erm", "hmm", "mm", "ah", "eh"})
_WORD_RE = re.compile(r"[^\s,;!?\"\u2026]+")

# -- e-mail ---------------------------------------------------------------------------

_SPOKEN_EMAIL = {
    "at": "@", "dot": ".", "period": ".", "point": ".", "underscore": "_", "dash": "-",
    "hyphen": "-", "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
# Words that cannot be part of an address: it starts after the last of them.
_EMAIL_STOP = frozenset(
    "is it's its was my email e-mail address mail sure yes yeah yep okay ok so that's "
    "this the here and or please well i reach me use try it".split()
)
_EMAIL_RE = re.compile(r"^[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.([a-z]{2,})$")
_SPELLED_RE = re.compile(r"^[a-z0-9](?:-[a-z0-9])+$")  # "j-o-h-n", as recognisers spell
_FINAL_TLDS = frozenset(
    "com org net edu gov io info biz us ca uk de fr es it nl be ch au nz ie in jp br mx se "
    "no dk fi pl pt eu me ai app dev tech online email cz ru cn kr za sg hk".split()
)
# Labels often followed by a country code ("co.uk", "com.au", "org.uk", "ac.uk").
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"})
_SECOND_LEVEL_REGIONS = frozenset(
    "GB AU NZ BR JP ZA IN IL KR MX AR TR CN HK SG MY TW ID TH UA PH PK NG EG CO PE".split()
)


def _email_complete(words: list[str], region: str) -> bool:
    start = len(words)
    while start > 0 and words[start - 1] not in _EMAIL_STOP:
        start -= 1
    tail = words[start:]
    if "at" not in tail and not any("@" in w for w in tail):
        return False
    address = "".join(
        _SPOKEN_EMAIL.get(w, w.replace("-", "") if _SPELLED_RE.match(w) else w) for w in tail
    )
    match = _EMAIL_RE.match(address)
    if match is None:
        return False
    tld = match.group(1)
    if tld not in _FINAL_TLDS or tld == "co":
        return False
    return not (tld in _SECOND_LEVEL and region.upper() in _SECOND_LEVEL_REGIONS)


# -- phone numbers --------------------------------------------------------------------

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
_REPEATS = {"double": 2, "triple": 3, "treble": 3}
_SCALES = {"hundred": "00", "thousand": "000"}
_NUMBER_TOKEN_RE = re.compile(r"\+|\d+|[a-z]+")


def _number_tokens(text: str) -> list[str]:
    """The tokens of the number the answer ends with (fillers inside it dropped)."""
    tokens = _NUMBER_TOKEN_RE.findall(text.lower())
    numeric = {*_UNITS, *_TEENS, *_TENS, *_REPEATS, *_SCALES, "plus", "+"}
    run: list[str] = []
    for token in reversed(tokens):
        if token.isdigit() or token in numeric:
            run.append(token)
        elif token in _FILLERS and run:
            continue
        else:
            break
    run.reverse()
    return run


def _digits(tokens: list[str]) -> tuple[str, bool] | None:
    """The digits said, and whether they began with "plus"; None when unreadable."""
    international = bool(tokens) and tokens[0] in ("+", "plus")
    out: list[str] = []
    i = 1 if international else 0
    while i < len(tokens):
        token = tokens[i]
        if token.isdigit():
            out.append(token)
        elif token in _UNITS:
            out.append(str(_UNITS[token]))
        elif token in _TEENS:
            out.append(str(_TEENS[token]))
        elif token in _TENS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if nxt in _UNITS and _UNITS[nxt] > 0 and nxt not in ("oh", "o", "nought"):
                out.append(str(_TENS[token] + _UNITS[nxt]))
                i += 1
            else:
                out.append(str(_TENS[token]))
        elif token in _REPEATS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if nxt in _UNITS:
                out.append(str(_UNITS[nxt]) * _REPEATS[token])
                i += 1
            elif nxt.isdigit() and len(nxt) == 1:
                out.append(nxt * _REPEATS[token])
                i += 1
            else:
                return None  # "double" at the end: its digit is still to come
        elif token in _SCALES:
            if not out:
                return None
            out.append(_SCALES[token])
        else:
            return None
        i += 1
    return "".join(out), international


def _phone_complete(text: str, region: str) -> bool:
    read = _digits(_number_tokens(text))
    if read is None or not read[0]:
        return False
    digits, international = read
    try:
        number = phonenumbers.parse(
            ("+" if international else "") + digits, None if international else region.upper()
        )
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(number):
        return False
    number_region = phonenumbers.region_code_for_number(number)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(number_region or "")
    general = metadata.general_desc if metadata is not None else None
    lengths = general.possible_length if general is not None else ()
    return bool(lengths) and len(str(number.national_number)) >= max(lengths)


# -- date and time --------------------------------------------------------------------

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DAY_RE = re.compile(
    r"\b(?:today|yesterday|tomorrow|tonight|last night|this morning|this afternoon|"
    r"this evening|(?:mon|tues|wednes|thurs|fri|satur|sun)day|"
    rf"(?:{_MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)? of (?:{_MONTHS})|"
    r"the \d{1,2}(?:st|nd|rd|th)|\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{4}-\d{2}-\d{2})\b"
)
_HOURS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_TIME_AT_END_RE = re.compile(
    r"(?:\b(?:\d{1,2}(?:[:.]\d{2})?|(?:" + _HOURS + r")(?: [a-z]+)?)\s*"
    r"(?:a\.?\s?m\.?|p\.?\s?m\.?|o'clock|in the (?:morning|afternoon|evening))"
    r"|\bnoon|\bmidnight)\s*[.!]?$"
)


def _datetime_complete(text: str) -> bool:
    lowered = text.lower().strip()
    return bool(_TIME_AT_END_RE.search(lowered)) and bool(_DAY_RE.search(lowered))


# -- the check ------------------------------------------------------------------------


def is_complete_answer(text: str, expected: ExpectedAnswer | None) -> bool:
    """Whether ``text`` (what was heard so far) ends with a whole value of the expected
    type; False whenever in doubt, for free text and without an expectation."""
    if expected is None or expected.type is None or expected.type is ClaimFieldType.TEXT:
        return False
    stripped = text.strip()
    if not stripped or _TRAILING_RE.search(stripped):
        return False
    words = [w.rstrip(".").lower() for w in _WORD_RE.findall(stripped)]
    words = [w for w in words if w]
    if not words or words[-1] in _FILLERS:
        return False
    match expected.type:
        case ClaimFieldType.EMAIL:
            return _email_complete(words, expected.region)
        case ClaimFieldType.PHONE_NUMBER:
            return _phone_complete(stripped, expected.region)
        case ClaimFieldType.DATETIME:
            return _datetime_complete(stripped)
    return False
