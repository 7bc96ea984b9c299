"""A domain-typed client of the Brain service: ``Converse`` streams and ``Summarize``."""

from __future__ import annotations

import asyncio

import grpc

from switchboard.channels import open_channel
from switchboard.errors import InvalidArgument, Unavailable
from switchboard.grpc_edge import domain_error
from switchboard.v1 import brain_pb2, brain_pb2_grpc, common_pb2
from switchboard_dialer.brain_events import (
    BrainEvent,
    BrainRequest,
    DtmfInput,
    EndCall,
    Hangup,
    Heard,
    Sentence,
    Silence,
    SmsToSend,
    SpeechSettingsChange,
    Start,
    TransferRequest,
    TurnDone,
    UserTurn,
)


def request_to_pb(request: BrainRequest) -> brain_pb2.ConverseRequest:
    match request:
        case Start(call_id=call_id, reconnect=reconnect):
            return brain_pb2.ConverseRequest(
                start=brain_pb2.ConversationStart(call_id=call_id, reconnect=reconnect)
            )
        case UserTurn():
            return brain_pb2.ConverseRequest(
                user_turn=brain_pb2.UserTurn(
                    turn_id=request.turn_id,
                    text=request.text,
                    confidence=request.confidence,
                    lang=request.lang,
                )
            )
        case Heard():
            return brain_pb2.ConverseRequest(
                heard=brain_pb2.PlayoutReport(
                    turn_id=request.turn_id,
                    heard_text=request.heard_text,
                    interrupted=request.interrupted,
                )
            )
        case DtmfInput(digits=digits):
            return brain_pb2.ConverseRequest(dtmf=common_pb2.Dtmf(digits=digits))
        case Silence(count=count):
            return brain_pb2.ConverseRequest(silence=brain_pb2.SilenceTimeout(count=count))
        case Hangup(reason=reason):
            return brain_pb2.ConverseRequest(hangup=brain_pb2.CallerHangup(reason=reason))
    raise InvalidArgument(f"unknown brain request {type(request).__name__}")


def event_from_pb(msg: brain_pb2.ConverseResponse) -> BrainEvent | None:
    """The domain event of a response; None for an empty one (a newer brain's event kind)."""
    kind = msg.WhichOneof("event")
    if kind == "sentence":
        s = msg.sentence
        return Sentence(turn_id=s.turn_id, index=s.index, text=s.text, filler=s.filler)
    if kind == "turn_done":
        return TurnDone(turn_id=msg.turn_done.turn_id)
    if kind == "transfer":
        return TransferRequest(turn_id=msg.transfer.turn_id, target=msg.transfer.target)
    if kind == "end_call":
        return EndCall(turn_id=msg.end_call.turn_id, reason=msg.end_call.reason)
    if kind == "sms":
        return SmsToSend(to=msg.sms.to, text=msg.sms.text)
    if kind == "speech_settings":
        return SpeechSettingsChange(
            lang=msg.speech_settings.lang, prosody_rate=msg.speech_settings.prosody_rate
        )
    return None


class GrpcConverseStream:
    """One ``Brain.Converse`` call; gRPC failures come out as domain errors."""

    def __init__(self, call: grpc.aio.StreamStreamCall) -> None:
        self._call = call

    async def send(self, request: BrainRequest) -> None:
        try:
            await self._call.write(request_to_pb(request))
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        except asyncio.InvalidStateError as exc:
            # The brain ended the stream while we were writing: as good as a drop.
            raise Unavailable("the brain closed the conversation stream") from exc

    async def receive(self) -> BrainEvent | None:
        while True:
            try:
                msg = await self._call.read()
            except grpc.aio.AioRpcError as exc:
                raise domain_error(exc) from exc
            if msg is grpc.aio.EOF:
                return None
            event = event_from_pb(msg)
            if event is not None:
                return event

    async def close(self) -> None:
        self._call.cancel()


class BrainClient:
    """Opens conversation streams (post-call reports come from the store's job queue)."""

    def __init__(self, address: str) -> None:
        self._channel = open_channel(address)
        # Generated stubs are untyped; their .pyi covers messages only.
        self._stub = brain_pb2_grpc.BrainStub(self._channel)  # type: ignore[no-untyped-call]

    async def converse(self) -> GrpcConverseStream:
        # No wait_for_ready: a brain that is down fails fast and the session's
        # reconnect loop decides how long to keep trying.
        return GrpcConverseStream(self._stub.Converse())

    async def close(self) -> None:
        await self._channel.close()
