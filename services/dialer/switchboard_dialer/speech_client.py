"""A domain-typed client of the Speech service: ``Listen`` and ``Speak`` streams."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from switchboard.channels import open_channel
from switchboard.errors import InvalidArgument, Unavailable
from switchboard.grpc_edge import domain_error
from switchboard.v1 import common_pb2, speech_pb2, speech_pb2_grpc
from switchboard_dialer.speech_events import (
    BotAudio,
    CancelTurn,
    ListenConfig,
    ListenEvent,
    SpeakConfig,
    SpeakEvent,
    SpeakRequest,
    SpeakSettings,
    SpeakText,
    SpeechEnded,
    SpeechStarted,
    TextDone,
    Transcript,
)

FRAME_MS = 20


async def _write(call: Any, message: Any, what: str) -> None:
    try:
        await call.write(message)
    except grpc.aio.AioRpcError as exc:
        raise domain_error(exc) from exc
    except asyncio.InvalidStateError as exc:
        raise Unavailable(f"the speech service closed the {what} stream") from exc


async def _read(call: Any) -> Any:
    """The next message, or None at the end of the stream."""
    try:
        msg = await call.read()
    except grpc.aio.AioRpcError as exc:
        raise domain_error(exc) from exc
    return None if msg is grpc.aio.EOF else msg


class GrpcListenStream:
    """One ``Speech.Listen`` call; frames are numbered and timestamped here."""

    def __init__(self, call: Any, config: ListenConfig) -> None:
        self._call = call
        self._config = config
        self._seq = 0

    async def open(self) -> None:
        c = self._config
        config = speech_pb2.ListenConfig(call_id=c.call_id, sample_rate=c.sample_rate, lang=c.lang)
        await _write(self._call, speech_pb2.ListenRequest(config=config), "listen")

    async def send_frame(self, pcm: bytes) -> None:
        seq = self._seq
        self._seq = seq + 1
        frame = common_pb2.AudioFrame(
            call_id=self._config.call_id,
            seq=seq,
            timestamp_ms=seq * FRAME_MS,
            sample_rate=self._config.sample_rate,
            pcm=pcm,
        )
        await _write(self._call, speech_pb2.ListenRequest(audio=frame), "listen")

    async def set_lang(self, lang: str) -> None:
        settings = speech_pb2.ListenSettings(lang=lang)
        await _write(self._call, speech_pb2.ListenRequest(settings=settings), "listen")

    async def receive(self) -> ListenEvent | None:
        while (msg := await _read(self._call)) is not None:
            kind = msg.WhichOneof("event")
            if kind == "speech_started":
                return SpeechStarted(offset_ms=msg.speech_started.offset_ms)
            if kind == "speech_ended":
                return SpeechEnded(offset_ms=msg.speech_ended.offset_ms)
            if kind == "transcript":
                t = msg.transcript
                return Transcript(
                    text=t.text, is_final=t.is_final, confidence=t.confidence, lang=t.lang
                )
        return None

    async def close(self) -> None:
        self._call.cancel()


def speak_request_to_pb(request: SpeakRequest, call_id: str) -> speech_pb2.SpeakRequest:
    match request:
        case SpeakText(turn_id=turn_id, index=index, text=text):
            return speech_pb2.SpeakRequest(
                text=speech_pb2.SpeakText(turn_id=turn_id, index=index, text=text)
            )
        case CancelTurn(turn_id=turn_id):
            return speech_pb2.SpeakRequest(cancel=speech_pb2.CancelTurn(turn_id=turn_id))
        case SpeakSettings(lang=lang, prosody_rate=rate):
            return speech_pb2.SpeakRequest(
                settings=speech_pb2.SpeakConfig(call_id=call_id, lang=lang, prosody_rate=rate)
            )
    raise InvalidArgument(f"unknown speak request {type(request).__name__}")


class GrpcSpeakStream:
    """One ``Speech.Speak`` call."""

    def __init__(self, call: Any, config: SpeakConfig) -> None:
        self._call = call
        self._config = config

    async def open(self) -> None:
        c = self._config
        config = speech_pb2.SpeakConfig(
            call_id=c.call_id,
            sample_rate=c.sample_rate,
            voice=c.voice,
            lang=c.lang,
            prosody_rate=c.prosody_rate,
        )
        await _write(self._call, speech_pb2.SpeakRequest(config=config), "speak")

    async def send(self, request: SpeakRequest) -> None:
        await _write(self._call, speak_request_to_pb(request, self._config.call_id), "speak")

    async def receive(self) -> SpeakEvent | None:
        while (msg := await _read(self._call)) is not None:
            kind = msg.WhichOneof("event")
            if kind == "audio":
                a = msg.audio
                return BotAudio(turn_id=a.turn_id, index=a.index, pcm=a.frame.pcm)
            if kind == "done":
                return TextDone(turn_id=msg.done.turn_id, index=msg.done.index)
        return None

    async def close(self) -> None:
        self._call.cancel()


class SpeechClient:
    """Opens Listen and Speak streams on one channel."""

    def __init__(self, address: str) -> None:
        self._channel = open_channel(address)
        # Generated stubs are untyped; their .pyi covers messages only.
        self._stub = speech_pb2_grpc.SpeechStub(self._channel)  # type: ignore[no-untyped-call]

    async def listen(self, config: ListenConfig) -> GrpcListenStream:
        stream = GrpcListenStream(self._stub.Listen(), config)
        await stream.open()
        return stream

    async def speak(self, config: SpeakConfig) -> GrpcSpeakStream:
        stream = GrpcSpeakStream(self._stub.Speak(), config)
        await stream.open()
        return stream

    async def close(self) -> None:
        await self._channel.close()
