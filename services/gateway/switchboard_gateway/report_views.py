"""What the report pages show beyond the call itself: the call's timeline and list paging."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from switchboard import domain
from switchboard.call_events import CallEvent, ClaimChange

# Seconds between reloads of a report whose call is not over yet.
REFRESH_SEC = 5


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to the call, besides what was said (the transcript)."""

    at: datetime
    what: str
    detail: str = ""


def timeline(events: list[CallEvent]) -> list[TimelineEntry]:
    """State changes, claim values, reminders and the synthesis, oldest first."""
    entries = []
    for event in events:
        match event.payload:
            case domain.CallState() as state:
                entries.append(TimelineEntry(event.at, "State", state.value))
            case ClaimChange(field=field, value=value):
                entries.append(TimelineEntry(event.at, "Claim", f"{field} = {value}"))
            case domain.Reminder(title=title):
                entries.append(TimelineEntry(event.at, "Reminder", title))
            case domain.Synthesis():
                entries.append(TimelineEntry(event.at, "Synthesis", "written"))
    return entries


def pretty_json(text: str) -> str:
    """A tool call's arguments indented for reading; as they are when not JSON."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@dataclass(frozen=True)
class Paging:
    """Where one page of the calls list sits among all matches."""

    page: int
    per_page: int
    shown: int
    total: int
    phone_number: str = ""

    @property
    def first(self) -> int:
        """The 1-based rank of the page's first call (newest first)."""
        return (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return self.first + self.shown - 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def url(self, page: int) -> str:
        query = {"phone_number": self.phone_number, "page": str(page) if page > 1 else ""}
        encoded = urlencode({k: v for k, v in query.items() if v})
        return f"/report?{encoded}" if encoded else "/report"

    @property
    def newer_url(self) -> str | None:
        return self.url(min(self.page - 1, self.pages)) if self.page > 1 else None

    @property
    def older_url(self) -> str | None:
        return self.url(self.page + 1) if self.page < self.pages else None
