"""The brain's gRPC edge: checks what the dialer sends, and converts post-call reports.

Converse messages convert through :mod:`switchboard.converse_wire`; this module
only adds what the brain requires of them (``start`` first, turn ids present).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from switchboard import convert
from switchboard.converse import ConversationStart, ConverseRequest, UserTurn
from switchboard.converse_wire import request_from_pb
from switchboard.errors import InvalidArgument
from switchboard.v1 import brain_pb2
from switchboard_brain.summary import PostCallReport


def start_from_pb(request: brain_pb2.ConverseRequest | None) -> ConversationStart:
    """The opening message; anything else is an ``InvalidArgument``."""
    start = request_from_pb(request) if request is not None else None
    if not isinstance(start, ConversationStart):
        raise InvalidArgument("the first Converse message must be start{call_id, reconnect}")
    if not start.call_id:
        raise InvalidArgument("start.call_id is required")
    return start


def event_from_pb(request: brain_pb2.ConverseRequest) -> ConverseRequest | None:
    """The domain event of a request after the first; None for an empty one (ignored)."""
    event = request_from_pb(request)
    match event:
        case UserTurn(turn_id=""):
            raise InvalidArgument("user_turn.turn_id is required")
        case ConversationStart():
            raise InvalidArgument("start may only be the first Converse message")
    return event


async def events_from_pb(
    requests: AsyncIterator[brain_pb2.ConverseRequest],
) -> AsyncIterator[ConverseRequest]:
    async for request in requests:
        event = event_from_pb(request)
        if event is not None:
            yield event


def report_to_pb(report: PostCallReport) -> brain_pb2.SummarizeResponse:
    return brain_pb2.SummarizeResponse(
        synthesis=convert.synthesis_to_pb(report.synthesis),
        next_action=convert.next_action_to_pb(report.next_action),
        sms_summary=report.sms_summary,
    )
