"""A domain-typed client of the Speech service: ``Listen`` and ``Speak`` streams."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any

import grpc

from switchboard.channels import open_channel
from switchboard.errors import Unavailable
from switchboard.grpc_edge import domain_error
from switchboard.media import FRAME_MS, AudioFrame, ExpectedAnswer, frames_of, whole_frames
from switchboard.speech import (
    ListenConfig,
    ListenResponse,
    ListenSettings,
    SpeakConfig,
    SpeakRequest,
    SpeakResponse,
    SpeakText,
    SpeechAudio,
    SpeechTextDone,
)
from switchboard.speech_wire import (
    listen_request_to_pb,
    listen_response_from_pb,
    speak_request_to_pb,
    speak_response_from_pb,
)
from switchboard.v1 import speech_pb2_grpc


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
        # grpc.aio allows one write at a time; frames and settings come from different tasks.
        self._writing = asyncio.Lock()

    async def open(self) -> None:
        await _write(self._call, listen_request_to_pb(self._config), "listen")

    async def send_frame(self, pcm: bytes) -> None:
        """One or more whole 20 ms frames in one message, numbered by the first."""
        seq = self._seq
        rate = self._config.sample_rate
        self._seq = seq + (whole_frames(pcm, rate) or 1)
        frame = AudioFrame(pcm, seq, seq * FRAME_MS, rate, self._config.call_id)
        async with self._writing:
            await _write(self._call, listen_request_to_pb(frame), "listen")

    async def set_lang(self, lang: str) -> None:
        async with self._writing:
            await _write(self._call, listen_request_to_pb(ListenSettings(lang)), "listen")

    async def expect(self, answer: ExpectedAnswer) -> None:
        async with self._writing:
            await _write(self._call, listen_request_to_pb(answer), "listen")

    async def receive(self) -> ListenResponse | None:
        while (msg := await _read(self._call)) is not None:
            event = listen_response_from_pb(msg)
            if event is not None:
                return event
        return None

    async def close(self) -> None:
        self._call.cancel()


class GrpcSpeakStream:
    """One ``Speech.Speak`` call. Audio sent several frames a message
    (``frames_per_message``) is received here one 20 ms frame at a time."""

    def __init__(self, call: Any, config: SpeakConfig) -> None:
        self._call = call
        self._config = config
        self._frames: deque[SpeechAudio] = deque()  # the rest of a received chunk

    async def open(self) -> None:
        await _write(self._call, speak_request_to_pb(self._config), "speak")

    async def send(self, request: SpeakRequest) -> None:
        await _write(self._call, speak_request_to_pb(request), "speak")

    async def receive(self) -> SpeakResponse | None:
        if self._frames:
            return self._frames.popleft()
        while (msg := await _read(self._call)) is not None:
            event = speak_response_from_pb(msg)
            if isinstance(event, SpeechAudio):
                return self._first_frame(event)
            if event is not None:
                return event
        return None

    def _first_frame(self, audio: SpeechAudio) -> SpeechAudio:
        """A chunk's first frame; the others wait in ``_frames``."""
        frame = audio.frame
        pieces = frames_of(frame.pcm, frame.sample_rate or self._config.sample_rate)
        if len(pieces) == 1:
            return audio
        turn_id, index, rate, call_id = audio.turn_id, audio.index, frame.sample_rate, frame.call_id
        seq, at_ms = frame.seq, frame.timestamp_ms
        self._frames.extend(
            SpeechAudio(
                turn_id, index, AudioFrame(pcm, seq + i, at_ms + i * FRAME_MS, rate, call_id)
            )
            for i, pcm in enumerate(pieces)
        )
        return self._frames.popleft()

    async def close(self) -> None:
        self._call.cancel()


class SpeechClient:
    """Opens Listen and Speak streams on one channel.

    ``wait_for_ready``: a stream opened while the service is not up yet waits for it
    instead of failing at once (the dialer fails fast; a one-off client may wait).
    """

    def __init__(self, address: str, *, wait_for_ready: bool = False) -> None:
        self._channel = open_channel(address)
        # Generated stubs are untyped; their .pyi covers messages only.
        self._stub = speech_pb2_grpc.SpeechStub(self._channel)  # type: ignore[no-untyped-call]
        self._wait_for_ready = wait_for_ready

    async def listen(self, config: ListenConfig) -> GrpcListenStream:
        stream = GrpcListenStream(self._stub.Listen(wait_for_ready=self._wait_for_ready), config)
        await stream.open()
        return stream

    async def speak(self, config: SpeakConfig) -> GrpcSpeakStream:
        stream = GrpcSpeakStream(self._stub.Speak(wait_for_ready=self._wait_for_ready), config)
        await stream.open()
        return stream

    async def synthesise(
        self, config: SpeakConfig, texts: Sequence[str], turn_id: str = "synthesis"
    ) -> list[list[bytes]]:
        """Each text rendered whole, as its 20 ms PCM16 frames, in the order given.

        For whoever plays a caller (simulations, tests, benchmarks) rather than a
        live call: it waits for the last frame of the last text.
        """
        frames: list[list[bytes]] = [[] for _ in texts]
        if not texts:
            return frames
        stream = await self.speak(config)
        try:
            for index, text in enumerate(texts):
                await stream.send(SpeakText(turn_id, index, text))
            left = len(texts)
            while left and (event := await stream.receive()) is not None:
                match event:
                    case SpeechAudio(index=index):
                        frames[index].append(event.pcm)
                    case SpeechTextDone():
                        left -= 1
        finally:
            await stream.close()
        return frames

    async def close(self) -> None:
        await self._channel.close()
