"""Clock times in normalised text ("3 pm", "15:30", "half past 4", "noon").

Works on text already passed through :func:`switchboard_brain.extract.dates.normalise`
(lower case, number words as digits). Rules where speech is ambiguous:

- an hour without am/pm is read as the caller most likely means it during the day:
  1-7 → afternoon (``at 3`` → 15:00), 8-11 → morning, 12 → noon; a part of day said
  with it ("in the evening", "this morning", "at night") decides instead;
- a part of day without a clock time stands for a typical hour: morning 09:00,
  afternoon 15:00, evening 19:00, night 21:00.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PART_OF_DAY_HOURS = {"morning": 9, "afternoon": 15, "evening": 19, "night": 21}

_PART_OF_DAY_RE = re.compile(r"\b(morning|afternoon|evening|night|tonight)\b")
_NAMED_RE = re.compile(r"\b(?:at )?(noon|midday|midnight)\b")
_PAST_TO_RE = re.compile(
    r"\b(?:at )?(half|quarter|\d{1,2})(?: minutes?)? (past|after|to|before) (\d{1,2})\b"
    r"(?: ?(am|pm))?"
)
# "2:30", "2.30pm" (as speech recognisers write it), "14h30"; no \b after the minutes,
# which would refuse a glued "pm".
_COLON_RE = re.compile(r"\b(?:at )?(\d{1,2})[:.h](\d{2})(?!\d)(?: ?(am|pm))?")
_AT_RE = re.compile(
    r"\b(?:at|around|about|by) (?:around |about )?(\d{1,2})(?: (\d{2}))?(?: ?(am|pm|oclock))?\b"
    r"(?! ?(?:day|week|month|year|hour|minute)s?\b)"
)
_AMPM_RE = re.compile(r"\b(\d{1,2})(?: (\d{2}))? ?(am|pm|oclock)\b")


@dataclass(frozen=True)
class ClockTime:
    """A time of day found in a sentence, and where it was (so date parsing skips it)."""

    hour: int
    minute: int
    span: tuple[int, int]


def part_of_day(text: str) -> str | None:
    """ "morning", "afternoon", "evening" or "night" when the sentence names one."""
    match = _PART_OF_DAY_RE.search(text)
    if match is None:
        return None
    word = match.group(1)
    return "night" if word == "tonight" else word


def _resolve_hour(hour: int, suffix: str | None, part: str | None) -> int | None:
    if suffix == "am":
        return 0 if hour == 12 else hour if hour <= 12 else None
    if suffix == "pm":
        return 12 if hour == 12 else hour + 12 if hour < 12 else None
    if hour > 23:
        return None
    if hour >= 13 or hour == 0:
        return hour
    if part == "morning":
        return 0 if hour == 12 else hour
    if part in ("afternoon", "evening", "night"):
        return hour if hour == 12 else hour + 12
    return hour + 12 if 1 <= hour <= 7 else hour


def find_time(text: str) -> ClockTime | None:
    """The first clock time in ``text``, or None."""
    part = part_of_day(text)
    named = _NAMED_RE.search(text)
    if named:
        hour = 0 if named.group(1) == "midnight" else 12
        return ClockTime(hour, 0, named.span())
    past_to = _PAST_TO_RE.search(text)
    if past_to:
        amount, direction, base, suffix = past_to.groups()
        minutes = {"half": 30, "quarter": 15}.get(amount) or int(amount)
        base_hour = _resolve_hour(int(base), suffix, part)
        if base_hour is None or minutes >= 60:
            return None
        total = base_hour * 60 + (minutes if direction in ("past", "after") else -minutes)
        total %= 24 * 60
        return ClockTime(total // 60, total % 60, past_to.span())
    for pattern in (_COLON_RE, _AT_RE, _AMPM_RE):
        match = pattern.search(text)
        if match is None:
            continue
        hour_s, minute_s, suffix = match.groups()
        minute = int(minute_s) if minute_s else 0
        resolved = _resolve_hour(int(hour_s), None if suffix == "oclock" else suffix, part)
        if resolved is None or minute >= 60:
            return None
        return ClockTime(resolved, minute, match.span())
    return None
