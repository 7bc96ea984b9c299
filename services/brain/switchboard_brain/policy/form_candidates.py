"""Which claim fields one answer fills: every (field, value, span) the caller said.

A caller answers the question asked and often more ("it was yesterday at 3 pm, and my
e-mail is john dot smith at example dot com"), corrects themselves ("on the fourth, no,
sorry, the fifth") or gives a value before it is asked. The rules:

- Typed values are read in order e-mail, phone number, date: each reader skips what
  the one before it used, so the digits of a phone number never become a time.
- A value goes to the field being asked when that field has its type; otherwise only
  to the one open field of its type (an e-mail with one e-mail field open, a date with
  one datetime field open); with two open fields of a type and neither asked, it goes
  nowhere. A date volunteered for a field not asked needs a day: "at 3" alone is not.
- Free text cannot be told apart, so a text field only takes the answer while it is
  the one asked, and not when the answer held nothing but values for other fields
  ("oh, and my e-mail is …"). A clause holding an e-mail address or a phone number
  is never free text, whether or not that value's own field is open: an e-mail said
  again once its field is filled (a caller repeating it, an answer heard twice) is
  no description.
- Corrections: the latest value said wins; for a date the day and the time are
  corrected separately ("the fourth at 3 pm, no, the fifth" is the fifth at 3 pm),
  and a field already filled keeps the part the correction does not name.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from switchboard.domain import ClaimField, ClaimFieldType
from switchboard.languages import primary
from switchboard_brain.extract.corrections import attempts, last_attempt
from switchboard_brain.extract.dates import (
    MONTHS,
    WEEKDAYS,
    SpokenMoment,
    normalise,
    parse_moment,
)
from switchboard_brain.extract.emails import find_emails
from switchboard_brain.extract.french import english_forms
from switchboard_brain.extract.numbers import ORDINAL_TENS, ORDINAL_UNITS, SCALES, TENS, UNITS
from switchboard_brain.extract.phones import amend_phone, find_phones
from switchboard_brain.extract.spans import Found, Span, mask
from switchboard_brain.extract.text import clean_text

# A date field whose description reads like an appointment resolves ambiguous dates
# forwards ("Monday" = the coming Monday); any other date field (an incident) backwards.
_FUTURE_FIELD_RE = re.compile(
    r"(?i)\b(appointment|schedule|book|callback|call back|visit|available|availability|"
    r"next|upcoming|future|preferred|when should|when would|when can)\b"
)
_MONTH_FIRST_REGIONS = frozenset({"US", "CA", "PH"})  # "3/4" is March 4th there
_WORD_RE = re.compile(r"[a-z][a-z'-]*[a-z]")  # two letters or more: "e-mail", "it's"
# Words that carry no free-text answer of their own: lead-ins, glue, and the vocabulary
# of dates, e-mails and numbers.
_NOT_CONTENT = frozenset(
    "my our the a an is it it's its was were and or also oh um uh er so well yes yeah sure "
    "ok okay right here there that this that's you can reach me call at on in of by to "
    "e-mail email mail address phone number mobile cell date time day it happened "
    "no sorry wait actually i mean i'm am pm morning afternoon evening night tonight "
    "yesterday today tomorrow last next this week month year ago half past quarter "
    "oclock o'clock noon midnight around about th st nd rd dot thank thanks please".split()
) | {*MONTHS, *WEEKDAYS, *UNITS, *TENS, *ORDINAL_UNITS, *ORDINAL_TENS, *SCALES}


@dataclass(frozen=True)
class Candidate:
    """A value for ``field`` found in the answer, and where it was said."""

    field: str
    value: str
    span: Span


@dataclass(frozen=True)
class Reading:
    """How values are read on this call: the callee's local now and region."""

    now: datetime  # timezone-aware, in the callee's timezone
    region: str | None
    line_number: str | None = None  # E.164 of the callee's line: "this number"
    lang: str = ""  # the call's current language; French is rewritten for the extractors


def prefers_future(claim_field: ClaimField) -> bool:
    """Whether the field is a moment ahead (an appointment) rather than behind."""
    return bool(_FUTURE_FIELD_RE.search(claim_field.description))


def _target(
    kind: ClaimFieldType, asked: ClaimField | None, open_fields: Sequence[ClaimField]
) -> ClaimField | None:
    """The field a value of ``kind`` belongs to: the asked one, else the only open one."""
    if asked is not None and asked.type is kind:
        return asked
    of_kind = [f for f in open_fields if f.type is kind]
    return of_kind[0] if len(of_kind) == 1 else None


def _found_in_attempts(
    text: str, spans: list[Span], reader: Callable[[str], list[Found]]
) -> list[Found]:
    found: list[Found] = []
    for start, end in spans:
        for item in reader(text[start:end]):
            found.append(Found(item.value, (item.span[0] + start, item.span[1] + start)))
    return found


def _phones(text: str, spans: list[Span], region: str | None) -> list[Found]:
    """Numbers in each attempt; an attempt that only repeats the end of the number before
    it ("…oh one eight six, sorry, oh one eight seven") corrects those last digits."""
    found: list[Found] = []
    for start, end in spans:
        here = find_phones(text[start:end], region)
        if here:
            found.extend(Found(f.value, (f.span[0] + start, f.span[1] + start)) for f in here)
        elif found:
            before = found[-1].span
            amended = amend_phone(text[before[0] : before[1]], text[start:end], region)
            if amended is not None:
                found.append(Found(amended.value, (before[0], end)))
    return found


def _start(found: Found) -> int:
    return found.span[0]


def _stored_moment(value: str | None) -> SpokenMoment | None:
    try:
        stored = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if stored is None:
        return None
    clock = stored.time() if stored.time() != time(0, 0) else None
    return SpokenMoment(stored.date(), clock)


def _moment(
    text: str, spans: list[Span], target: ClaimField, reading: Reading
) -> tuple[SpokenMoment, Span] | None:
    """The latest day and the latest time said across the attempts, and where."""
    day: date | None = None
    clock: time | None = None
    used: list[Span] = []
    for start, end in spans:
        moment = parse_moment(
            text[start:end],
            reading.now.date(),
            prefer_future=prefers_future(target),
            day_first=reading.region not in _MONTH_FIRST_REGIONS,
        )
        if moment is None:
            continue
        day = moment.day or day
        clock = moment.clock or clock
        used.append((start, end))
    if not used:
        return None
    return SpokenMoment(day, clock), (used[0][0], used[-1][1])


_VAGUE_RE = re.compile(r"(?i)\b(?:weeks?|months?|years?)\b")
_PRECISE_RE = re.compile(
    r"(?i)\b(?:" + "|".join([*MONTHS, *WEEKDAYS]) + r"|yesterday|today|tonight|tomorrow|"
    r"\d{1,2}(?:st|nd|rd|th)|\d{1,2}/\d{1,2}|\d{4}-\d{2}-\d{2})\b"
)


def _vague(text: str) -> bool:
    """ "last year", "a few weeks ago": a date said in passing ("I bought it last year")
    is no answer for a field not asked; "last week on Tuesday" names a day."""
    return bool(_VAGUE_RE.search(text)) and not _PRECISE_RE.search(normalise(text))


def _has_content(text: str) -> bool:
    return any(
        word not in _NOT_CONTENT and not word.isdigit() for word in _WORD_RE.findall(text.lower())
    )


# "You can reach me on this number": the line the call is on.
_THIS_LINE_RE = re.compile(
    r"(?i)\b(?:this|that|the same|same|my current|the current) (?:number|phone|line|one)\b"
    r"|\b(?:number|one|phone) (?:you(?:'re| are)? (?:calling|called|rang|dialled|dialed)|"
    r"i'?m (?:on|calling (?:on|from)|using|talking on))\b"
)
_CLAUSE_END_RE = re.compile(r"(?<=[.!?;,])\s+")


def _free_text(text: str, span: Span, typed: list[Span]) -> str:
    """The free-text answer in ``span`` without the clauses that carried an e-mail or a
    phone number (``typed``) or nothing but glue ("A pipe burst. Oh, and my e-mail is …"
    → "A pipe burst."); empty when nothing else was said ("it was yesterday at 3 pm"):
    date and number words, and the glue around a value, are no content."""
    masked = mask(text, typed)
    start, end = span
    cuts = [start, *(m.end() for m in _CLAUSE_END_RE.finditer(masked, start, end)), end]
    clauses = [
        (a, b)
        for a, b in itertools.pairwise(cuts)
        if _has_content(masked[a:b]) and not any(s < b and a < e for s, e in typed)
    ]
    return " ".join(text[a:b].strip() for a, b in clauses)


def find_candidates(
    text: str,
    *,
    asked: ClaimField | None,
    open_fields: Sequence[ClaimField],
    filled: Mapping[str, str],
    reading: Reading,
) -> list[Candidate]:
    """Every field the answer fills, at most one value each, in the order of ``open_fields``.

    ``open_fields`` are the fields that may take a value now (those without one, plus
    the asked one and any the caller is correcting); ``filled`` the values stored so far.
    """
    said_as = text
    french = primary(reading.lang) == "fr"
    if french:  # values are read from English forms; free text stays as said
        text = english_forms(text)
    spans = attempts(text)
    found: dict[str, Candidate] = {}
    emails = _found_in_attempts(text, spans, find_emails)
    rest = mask(text, (e.span for e in emails))
    phones = _phones(rest, spans, reading.region)
    rest = mask(rest, (p.span for p in phones))
    # Only as an answer: "that phone was stolen" in a description is no number.
    asked_phone = asked is not None and asked.type is ClaimFieldType.PHONE_NUMBER
    if asked_phone and reading.line_number and (this_line := _THIS_LINE_RE.search(rest)):
        phones = sorted([*phones, Found(reading.line_number, this_line.span())], key=_start)
    for kind, values in ((ClaimFieldType.EMAIL, emails), (ClaimFieldType.PHONE_NUMBER, phones)):
        target = _target(kind, asked, open_fields)
        if target is not None and values:
            found[target.name] = Candidate(target.name, values[-1].value, values[-1].span)
    # Every e-mail and phone number said, filed or not: none of them is free text.
    typed_spans = [value.span for value in (*emails, *phones)]

    target = _target(ClaimFieldType.DATETIME, asked, open_fields)
    said = _moment(rest, spans, target, reading) if target is not None else None
    if target is not None and said is not None:
        moment, span = said
        before = _stored_moment(filled.get(target.name))
        if before is not None:  # a correction names only what changes
            moment = SpokenMoment(moment.day or before.day, moment.clock or before.clock)
        volunteered_day = moment.day is not None and not _vague(rest[span[0] : span[1]])
        if volunteered_day or target is asked:
            value = moment.at(reading.now.date(), reading.now.tzinfo).isoformat()
            found[target.name] = Candidate(target.name, value, span)

    if asked is not None and asked.type is ClaimFieldType.TEXT:
        start, end = last_attempt(text)
        values_said = bool(found or typed_spans)
        answer = _free_text(text, (start, end), typed_spans) if values_said else text[start:end]
        if french:
            start, end = 0, len(said_as)
            answer = said_as if answer or not values_said else ""
        if clean_text(answer):
            found[asked.name] = Candidate(asked.name, clean_text(answer), (start, end))
    order = {f.name: i for i, f in enumerate(open_fields)}
    return sorted(found.values(), key=lambda c: order.get(c.field, len(order)))
