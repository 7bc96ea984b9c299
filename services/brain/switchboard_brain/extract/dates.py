"""Dates and times as callers say them, resolved against the call's local "now".

``parse_datetime("last Monday at half past four", now)`` → an aware datetime in
``now``'s timezone. Rules where speech is ambiguous (see also :mod:`.times`):

- "last Monday" is the most recent Monday strictly before today; a bare "Monday"
  (or "on Monday", "this Monday") is the most recent one on or before today, or the
  next one on or after today when ``prefer_future`` is set; "next Monday" is always
  the first Monday after today.
- A date without a year ("March 3rd", "on the 5th") is taken in the past when it
  would otherwise lie ahead (an incident happened already): in the previous year,
  or the previous month for a bare day. With ``prefer_future`` (an appointment) it is
  moved forward instead.
- "last week" / "last month" / "last year" is the same day one week / month / year
  earlier; "a couple of" is 2, "a few" is 3.
- Numeric dates: ISO ``2026-03-03`` always; ``3/4/2026`` is month first unless
  ``day_first`` (callers outside North America).
- Without a clock time the result is midnight local time; a part of day alone
  ("this morning") stands for a typical hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from switchboard_brain.extract.numbers import words_to_digits
from switchboard_brain.extract.times import PART_OF_DAY_HOURS, find_time, part_of_day

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
_COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "couple": 2, "few": 3}
_MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_WEEKDAY = "(" + "|".join(WEEKDAYS) + ")"

_ISO_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ](\d{1,2}):(\d{2}))?\b")
_DOTTED_RE = re.compile(r"\b([ap])\.m\.?")
_PUNCT_RE = re.compile(r"[,;!?\"]|\.(?!\d)|'(?!clock)")
_OCLOCK_RE = re.compile(r"o'? ?clock")
_ORDINAL_RE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")
_YEAR_PAIR_RE = re.compile(r"\b(19|20) (\d{2})\b(?! \d)")
# Speech recognisers write "twenty twenty six" as "2020, 6": a decade year then one digit.
# Not before more digits: "2020 2 30 pm" is 2020 at 2:30 pm.
_SPLIT_YEAR_RE = re.compile(r"\b(19[0-9]|20[0-9])0 ([1-9])\b(?! ?(?:\d|am|pm|oclock|:))")
# "ten oh five" is 10:05 when said as a time: after "at" or before am/pm.
_OH_MINUTES_RE = re.compile(
    r"\b(?:(at|around|about|by) (\d{1,2}) oh (\d)\b|(\d{1,2}) oh (\d) ?(am|pm|in the)\b)"
)
# After a day and month, a year as Whisper writes "twenty twenty-six" ("2020 26", the
# second "twenty" twice) or "two thousand twenty-six" ("2000 26"). Only there, only when
# the tens agree (2020 26, 2010 15), and not before a time, a unit or more digits: a real
# "March 3rd 2020" stays 2020, and "2020, 26 people" is no year.
_MONTH_WORD = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_DAY_AND_MONTH = (
    rf"(?:{_MONTH_WORD} (?:the )?\d{{1,2}}(?:th)?|\d{{1,2}}(?:th)? (?:of )?{_MONTH_WORD})"
)
_SPOKEN_YEAR_RE = re.compile(
    rf"\b({_DAY_AND_MONTH} )(19|20)(?:([1-9])0 (\3\d)|00 ([1-9]\d|0[1-9]))\b"
    r"(?! ?(?:\d|am\b|pm\b|oclock|:|(?:minute|hour|day|week|month|year|people|time)s?\b))"
)
_SLASH_RE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?\b")
_DAY_OFFSETS = (
    (re.compile(r"\bday before yesterday\b"), -2),
    (re.compile(r"\bday after tomorrow\b"), 2),
    (re.compile(r"\byesterday\b|\blast night\b"), -1),
    (re.compile(r"\btomorrow\b"), 1),
    (re.compile(r"\btoday\b|\btonight\b|\bthis (?:morning|afternoon|evening)\b|\bnow\b"), 0),
)
_AGO_RE = re.compile(
    r"\b(\d+|a|an|one|(?:a )?couple(?: of)?|(?:a )?few) (day|week|month|year)s?"
    r" (ago|back|earlier)\b"
)
_AHEAD_RE = re.compile(
    r"\b(?:in )?(\d+|a|an|one|(?:a )?couple(?: of)?|(?:a )?few) (day|week|month|year)s?"
    r"(?: (from now|later|time))?\b"
)
_LAST_NEXT_UNIT_RE = re.compile(r"\b(last|past|previous|next) (week|month|year)\b")
_WEEKDAY_RE = re.compile(r"\b(?:(last|past|previous|this|next|on) )?" + _WEEKDAY + r"\b")
_MONTH_DAY_RE = re.compile(_MONTH + r" (?:the )?(\d{1,2})(?:th)?\b(?: (\d{4}))?")
_DAY_MONTH_RE = re.compile(r"\b(\d{1,2})(?:th)? (?:of )?" + _MONTH + r"\b(?: (\d{4}))?")
_BARE_DAY_RE = re.compile(r"\bthe (\d{1,2})th\b")


def normalise(text: str) -> str:
    """Lower case, "p.m." → "pm", punctuation dropped, number words as digits."""
    lowered = _DOTTED_RE.sub(r"\1m", text.lower())
    lowered = _OCLOCK_RE.sub("oclock", lowered)
    lowered = _PUNCT_RE.sub(" ", lowered)
    digits = words_to_digits(lowered)
    digits = _YEAR_PAIR_RE.sub(r"\1\2", digits)
    digits = _SPLIT_YEAR_RE.sub(r"\1\2", digits)
    digits = _OH_MINUTES_RE.sub(_oh_minutes, digits)
    digits = _ORDINAL_RE.sub(r"\1th", digits)
    return _SPOKEN_YEAR_RE.sub(_spoken_year, digits)


def _spoken_year(match: re.Match[str]) -> str:
    before, century, _tens, overlapped, after_thousand = match.groups()
    return f"{before}{century}{overlapped or after_thousand}"


def _oh_minutes(match: re.Match[str]) -> str:
    lead, hour, minute, hour2, minute2, suffix = match.groups()
    if lead:
        return f"{lead} {hour}:0{minute}"
    return f"{hour2}:0{minute2} {suffix}"


def _count(word: str) -> int:
    key = word.removeprefix("a ").removesuffix(" of")
    return _COUNT_WORDS.get(key) or int(key)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's end (Mar 31 - 1 month = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        moved = _safe_date(year, month, min(day.day, candidate))
        if moved is not None:
            return moved
    raise AssertionError("unreachable: every month has a 28th")


def _shift(today: date, amount: int, unit: str) -> date:
    if unit == "day":
        return today + timedelta(days=amount)
    if unit == "week":
        return today + timedelta(weeks=amount)
    if unit == "month":
        return add_months(today, amount)
    return add_months(today, 12 * amount)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_year(year: str | None) -> int | None:
    if not year:
        return None
    value = int(year)
    return value + 2000 if value < 100 else value


def _month_day(today: date, month: int, day: int, year: int | None, future: bool) -> date | None:
    if year is not None:
        return _safe_date(year, month, day)
    candidate = _safe_date(today.year, month, day)
    if candidate is None:
        return None
    if not future and candidate > today:
        return _safe_date(today.year - 1, month, day)
    if future and candidate < today:
        return _safe_date(today.year + 1, month, day)
    return candidate


def _weekday(today: date, qualifier: str | None, weekday: int, future: bool) -> date:
    back = (today.weekday() - weekday) % 7
    ahead = (weekday - today.weekday()) % 7
    if qualifier in ("last", "past", "previous"):
        return today - timedelta(days=back or 7)
    if qualifier == "next":
        return today + timedelta(days=ahead or 7)
    return today + timedelta(days=ahead) if future else today - timedelta(days=back)


def _bare_day(today: date, day: int, future: bool) -> date | None:
    candidate = _safe_date(today.year, today.month, day)
    step = 1 if future else -1
    if candidate is None or (candidate > today and not future) or (candidate < today and future):
        shifted = add_months(today.replace(day=1), step)
        return _safe_date(shifted.year, shifted.month, day)
    return candidate


def find_date(
    text: str, today: date, *, prefer_future: bool = False, day_first: bool = False
) -> date | None:
    """The calendar date named in normalised ``text``, or None."""
    if match := _SLASH_RE.search(text):
        first, second, year = int(match.group(1)), int(match.group(2)), _full_year(match.group(3))
        month, day = (second, first) if day_first else (first, second)
        return _month_day(today, month, day, year, prefer_future)
    for pattern, offset in _DAY_OFFSETS:
        if pattern.search(text):
            return today + timedelta(days=offset)
    if match := _AGO_RE.search(text):
        return _shift(today, -_count(match.group(1)), match.group(2))
    if match := _LAST_NEXT_UNIT_RE.search(text):
        return _shift(today, 1 if match.group(1) == "next" else -1, match.group(2))
    if match := _WEEKDAY_RE.search(text):
        return _weekday(today, match.group(1), WEEKDAYS[match.group(2)], prefer_future)
    if match := _MONTH_DAY_RE.search(text):
        month, day, year = MONTHS[match.group(1)], int(match.group(2)), _full_year(match.group(3))
        return _month_day(today, month, day, year, prefer_future)
    if match := _DAY_MONTH_RE.search(text):
        day, month, year = int(match.group(1)), MONTHS[match.group(2)], _full_year(match.group(3))
        return _month_day(today, month, day, year, prefer_future)
    if match := _BARE_DAY_RE.search(text):
        return _bare_day(today, int(match.group(1)), prefer_future)
    match = _AHEAD_RE.search(text)
    if match and (match.group(0).startswith("in ") or match.group(3)):
        return _shift(today, _count(match.group(1)), match.group(2))
    return None


@dataclass(frozen=True)
class SpokenMoment:
    """What a caller said of a moment: the day, the clock time, either or both.

    Kept apart so a correction can replace one and keep the other ("on the fourth at
    3 pm, no, the fifth" is the fifth at 3 pm)."""

    day: date | None
    clock: time | None

    def at(self, today: date, tzinfo: tzinfo | None) -> datetime:
        """The moment, on ``today`` when no day was said, at midnight when no time was."""
        return datetime.combine(self.day or today, self.clock or time(0, 0), tzinfo=tzinfo)


def parse_moment(
    text: str, today: date, *, prefer_future: bool = False, day_first: bool = False
) -> SpokenMoment | None:
    """The day and clock time named in ``text``, or None when it names neither."""
    iso = _ISO_RE.search(text.lower())
    if iso:
        year, month, day, hour, minute = iso.groups()
        found = _safe_date(int(year), int(month), int(day))
        if found is None:
            return None
        valid_clock = hour and int(hour) < 24 and int(minute) < 60
        clock = time(int(hour), int(minute)) if valid_clock else None
        if clock is None:
            found_time = find_time(normalise(text[: iso.start()] + " " + text[iso.end() :]))
            clock = time(found_time.hour, found_time.minute) if found_time else None
        return SpokenMoment(found, clock)
    norm = normalise(text)
    clock_time = find_time(norm)
    rest = norm
    if clock_time is not None:
        start, end = clock_time.span
        rest = norm[:start] + " " + norm[end:]
    found_date = find_date(rest, today, prefer_future=prefer_future, day_first=day_first)
    if found_date is None and clock_time is None:
        return None
    if clock_time is not None:
        return SpokenMoment(found_date, time(clock_time.hour, clock_time.minute))
    part = part_of_day(rest)
    return SpokenMoment(found_date, time(PART_OF_DAY_HOURS[part], 0) if part else None)


def parse_datetime(
    text: str, now: datetime, *, prefer_future: bool = False, day_first: bool = False
) -> datetime | None:
    """The moment named in ``text``, in ``now``'s timezone, or None when there is none.

    ``now`` must be timezone-aware and already in the callee's local timezone.
    """
    moment = parse_moment(text, now.date(), prefer_future=prefer_future, day_first=day_first)
    return moment.at(now.date(), now.tzinfo) if moment else None


def ordinal(day: int) -> str:
    """1 → "1st", 22 → "22nd", 13 → "13th"."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def speak_datetime(value: datetime) -> str:
    """How the bot reads a date back: "the 16th of November 2026 at 3:30 pm"."""
    spoken = f"the {ordinal(value.day)} of {value.strftime('%B')} {value.year}"
    if value.hour or value.minute:
        hour = value.hour % 12 or 12
        suffix = "am" if value.hour < 12 else "pm"
        clock = f"{hour}:{value.minute:02d}" if value.minute else str(hour)
        spoken += f" at {clock} {suffix}"
    return spoken
