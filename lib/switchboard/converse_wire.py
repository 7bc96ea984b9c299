"""The one converter each way between :mod:`switchboard.converse` and ``brain_pb2``.

Used by the brain's servicer and by :class:`switchboard.brain_client.BrainClient`;
nothing else builds or reads Converse messages. A message whose ``oneof`` is
empty (or a kind this version does not know) converts to None: the reader
ignores it, so a newer peer can add kinds.
"""

from __future__ import annotations

from switchboard.converse import (
    AgentSendDtmf,
    AgentSentence,
    AgentTransfer,
    AgentTurnDone,
    CallerHangup,
    CallTimeUp,
    CancelAgentTurn,
    ConversationStart,
    ConverseRequest,
    ConverseResponse,
    Dtmf,
    EndCallRequest,
    ExpectAnswer,
    PlayoutReport,
    SilenceTimeout,
    SmsRequest,
    SpeechSettings,
    UserTurn,
)
from switchboard.media_wire import dtmf_from_pb, dtmf_to_pb, expected_from_pb, expected_to_pb
from switchboard.v1 import brain_pb2


def request_to_pb(request: ConverseRequest) -> brain_pb2.ConverseRequest:
    """The wire form of a dialer → brain event."""
    match request:
        case ConversationStart(call_id=call_id, reconnect=reconnect, sends_dtmf=sends_dtmf):
            return brain_pb2.ConverseRequest(
                start=brain_pb2.ConversationStart(
                    call_id=call_id, reconnect=reconnect, sends_dtmf=sends_dtmf
                )
            )
        case UserTurn():
            return brain_pb2.ConverseRequest(
                user_turn=brain_pb2.UserTurn(
                    turn_id=request.turn_id,
                    text=request.text,
                    confidence=request.confidence,
                    lang=request.lang,
                    keypad=request.keypad,
                )
            )
        case PlayoutReport():
            return brain_pb2.ConverseRequest(
                heard=brain_pb2.PlayoutReport(
                    turn_id=request.turn_id,
                    heard_text=request.heard_text,
                    interrupted=request.interrupted,
                )
            )
        case Dtmf():
            return brain_pb2.ConverseRequest(dtmf=dtmf_to_pb(request))
        case SilenceTimeout(count=count):
            return brain_pb2.ConverseRequest(silence=brain_pb2.SilenceTimeout(count=count))
        case CallerHangup(reason=reason):
            return brain_pb2.ConverseRequest(hangup=brain_pb2.CallerHangup(reason=reason))
        case CancelAgentTurn(turn_id=turn_id):
            return brain_pb2.ConverseRequest(cancel=brain_pb2.CancelAgentTurn(turn_id=turn_id))
        case CallTimeUp(reason=reason):
            return brain_pb2.ConverseRequest(time_up=brain_pb2.CallTimeUp(reason=reason))
    raise TypeError(f"unknown Converse request {type(request).__name__}")


def request_from_pb(msg: brain_pb2.ConverseRequest) -> ConverseRequest | None:
    """The domain event of a request; None for an empty one."""
    match msg.WhichOneof("event"):
        case "start":
            start = msg.start
            return ConversationStart(start.call_id, start.reconnect, start.sends_dtmf)
        case "user_turn":
            turn = msg.user_turn
            return UserTurn(turn.turn_id, turn.text, turn.confidence, turn.lang, turn.keypad)
        case "heard":
            heard = msg.heard
            return PlayoutReport(heard.turn_id, heard.heard_text, heard.interrupted)
        case "dtmf":
            return dtmf_from_pb(msg.dtmf)
        case "silence":
            return SilenceTimeout(msg.silence.count)
        case "hangup":
            return CallerHangup(msg.hangup.reason)
        case "cancel":
            return CancelAgentTurn(msg.cancel.turn_id)
        case "time_up":
            return CallTimeUp(msg.time_up.reason) if msg.time_up.reason else CallTimeUp()
    return None


def response_to_pb(event: ConverseResponse) -> brain_pb2.ConverseResponse:
    """The wire form of a brain → dialer event."""
    match event:
        case AgentSentence():
            return brain_pb2.ConverseResponse(
                sentence=brain_pb2.AgentSentence(
                    turn_id=event.turn_id, index=event.index, text=event.text, filler=event.filler
                )
            )
        case AgentTurnDone(turn_id=turn_id):
            return brain_pb2.ConverseResponse(turn_done=brain_pb2.AgentTurnDone(turn_id=turn_id))
        case AgentTransfer(turn_id=turn_id, target=target):
            return brain_pb2.ConverseResponse(
                transfer=brain_pb2.AgentTransfer(turn_id=turn_id, target=target)
            )
        case EndCallRequest(turn_id=turn_id, reason=reason):
            return brain_pb2.ConverseResponse(
                end_call=brain_pb2.EndCallRequest(turn_id=turn_id, reason=reason)
            )
        case SmsRequest(to=to, text=text, turn_id=turn_id):
            return brain_pb2.ConverseResponse(
                sms=brain_pb2.SmsRequest(to=to, text=text, turn_id=turn_id)
            )
        case SpeechSettings(lang=lang, prosody_rate=rate):
            return brain_pb2.ConverseResponse(
                speech_settings=brain_pb2.SpeechSettings(lang=lang, prosody_rate=rate)
            )
        case ExpectAnswer(turn_id=turn_id, answer=answer):
            return brain_pb2.ConverseResponse(
                expect_answer=brain_pb2.ExpectAnswer(turn_id=turn_id, answer=expected_to_pb(answer))
            )
        case AgentSendDtmf(turn_id=turn_id, digits=digits):
            return brain_pb2.ConverseResponse(
                send_dtmf=brain_pb2.AgentSendDtmf(turn_id=turn_id, digits=digits)
            )
    raise TypeError(f"unknown Converse response {type(event).__name__}")


def response_from_pb(msg: brain_pb2.ConverseResponse) -> ConverseResponse | None:
    """The domain event of a response; None for an empty one (a newer brain's kind)."""
    match msg.WhichOneof("event"):
        case "sentence":
            s = msg.sentence
            return AgentSentence(s.turn_id, s.index, s.text, s.filler)
        case "turn_done":
            return AgentTurnDone(msg.turn_done.turn_id)
        case "transfer":
            return AgentTransfer(msg.transfer.turn_id, msg.transfer.target)
        case "end_call":
            return EndCallRequest(msg.end_call.turn_id, msg.end_call.reason)
        case "sms":
            return SmsRequest(msg.sms.to, msg.sms.text, msg.sms.turn_id)
        case "speech_settings":
            settings = msg.speech_settings
            return SpeechSettings(settings.lang, settings.prosody_rate)
        case "expect_answer":
            expect = msg.expect_answer
            return ExpectAnswer(expect.turn_id, expected_from_pb(expect.answer))
        case "send_dtmf":
            return AgentSendDtmf(msg.send_dtmf.turn_id, msg.send_dtmf.digits)
    return None
