"""What happened to a call, in order: the domain side of ``Store.WatchCall``.

The store writes these in the transaction that made the change; watchers (the
gateway's softphone transcript, reports, tests) read them through
:meth:`switchboard.store_client.StoreClient.watch_call`. The wire form is converted
in :mod:`switchboard.convert` (``call_event_to_pb`` / ``call_event_from_pb``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from switchboard import domain


@dataclass(frozen=True)
class ClaimChange:
    """One claim field took a new (normalised) value."""

    field: str
    value: str


EventPayload = domain.CallState | domain.Message | ClaimChange | domain.Reminder | domain.Synthesis
"""A new state; a message (a ``seq`` seen before replaces that message); a claim value;
a reminder; the post-call synthesis."""


@dataclass(frozen=True)
class CallEvent:
    """Something that happened to a call; ``seq`` counts 1, 2, 3… per call."""

    call_id: str
    seq: int
    at: datetime
    payload: EventPayload
