"""The brain's gRPC edge: Converse and Summarize messages ↔ domain events."""

from __future__ import annotations

from collections.abc import AsyncIterator

from switchboard import convert
from switchboard.errors import InvalidArgument
from switchboard.v1 import brain_pb2
from switchboard_brain.events import (
    AgentEndCall,
    AgentSentence,
    AgentSms,
    AgentSpeechSettings,
    AgentTransfer,
    AgentTurnDone,
    CallerHangup,
    ConversationStart,
    DtmfPressed,
    InboundEvent,
    OutboundEvent,
    PlayoutReport,
    SilenceTimeout,
    UserTurn,
)
from switchboard_brain.summary import PostCallReport


def start_from_pb(request: brain_pb2.ConverseRequest | None) -> ConversationStart:
    """The opening message; anything else is an ``InvalidArgument``."""
    if request is None or request.WhichOneof("event") != "start":
        raise InvalidArgument("the first Converse message must be start{call_id, reconnect}")
    if not request.start.call_id:
        raise InvalidArgument("start.call_id is required")
    return ConversationStart(request.start.call_id, request.start.reconnect)


def event_from_pb(request: brain_pb2.ConverseRequest) -> InboundEvent | None:
    """The domain event of a request; None for an empty one (ignored)."""
    match request.WhichOneof("event"):
        case "user_turn":
            turn = request.user_turn
            if not turn.turn_id:
                raise InvalidArgument("user_turn.turn_id is required")
            return UserTurn(turn.turn_id, turn.text)
        case "heard":
            return PlayoutReport(
                request.heard.turn_id, request.heard.heard_text, request.heard.interrupted
            )
        case "dtmf":
            return DtmfPressed(request.dtmf.digits)
        case "silence":
            return SilenceTimeout(request.silence.count)
        case "hangup":
            return CallerHangup(request.hangup.reason)
        case "start":
            raise InvalidArgument("start may only be the first Converse message")
    return None


async def events_from_pb(
    requests: AsyncIterator[brain_pb2.ConverseRequest],
) -> AsyncIterator[InboundEvent]:
    async for request in requests:
        event = event_from_pb(request)
        if event is not None:
            yield event


def event_to_pb(event: OutboundEvent) -> brain_pb2.ConverseResponse:
    match event:
        case AgentSentence():
            return brain_pb2.ConverseResponse(
                sentence=brain_pb2.AgentSentence(
                    turn_id=event.turn_id, index=event.index, text=event.text, filler=event.filler
                )
            )
        case AgentTurnDone():
            return brain_pb2.ConverseResponse(
                turn_done=brain_pb2.AgentTurnDone(turn_id=event.turn_id)
            )
        case AgentTransfer():
            return brain_pb2.ConverseResponse(
                transfer=brain_pb2.AgentTransfer(turn_id=event.turn_id, target=event.target)
            )
        case AgentEndCall():
            return brain_pb2.ConverseResponse(
                end_call=brain_pb2.EndCallRequest(turn_id=event.turn_id, reason=event.reason)
            )
        case AgentSms():
            return brain_pb2.ConverseResponse(
                sms=brain_pb2.SmsRequest(to=event.to, text=event.text)
            )
        case AgentSpeechSettings():
            return brain_pb2.ConverseResponse(
                speech_settings=brain_pb2.SpeechSettings(
                    lang=event.lang, prosody_rate=event.prosody_rate
                )
            )
    raise TypeError(f"unknown agent event {type(event).__name__}")


def report_to_pb(report: PostCallReport) -> brain_pb2.SummarizeResponse:
    return brain_pb2.SummarizeResponse(
        synthesis=convert.synthesis_to_pb(report.synthesis),
        next_action=convert.next_action_to_pb(report.next_action),
        sms_summary=report.sms_summary,
    )
