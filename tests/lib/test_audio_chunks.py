"""Several 20 ms frames a message: cutting chunks into frames, the Speech client giving a
received chunk back one frame at a time, and numbering what it sends on Listen."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Any

import grpc

from switchboard.media import AudioFrame, frame_bytes, frames_of, whole_frames
from switchboard.speech import (
    ListenConfig,
    SpeakConfig,
    SpeakText,
    SpeechAudio,
    SpeechTextDone,
)
from switchboard.speech_client import SpeechClient
from switchboard.speech_wire import listen_request_from_pb, speak_response_to_pb
from switchboard.v1 import speech_pb2_grpc
from switchboard_testing.grpc_servers import serving

RATE = 8000
SIZE = frame_bytes(RATE)


def frame(n: int) -> bytes:
    return bytes([n]) * SIZE


def test_a_chunk_is_cut_into_its_frames() -> None:
    chunk = frame(1) + frame(2) + frame(3)
    assert frames_of(chunk, RATE) == [frame(1), frame(2), frame(3)]
    assert frames_of(frame(4), RATE) == [frame(4)]
    assert whole_frames(chunk, RATE) == 3
    assert whole_frames(frame(1), 16000) == 0  # half a frame at 16 kHz
    assert whole_frames(chunk + b"\x00\x00", RATE) == 0
    assert whole_frames(b"", RATE) == 0


class ChunkedSpeech(speech_pb2_grpc.SpeechServicer):  # type: ignore[misc]
    """Speaks one text as a chunk of three frames then one frame; records Listen audio."""

    def __init__(self) -> None:
        self.heard: list[AudioFrame] = []
        self.configs: list[Any] = []

    async def Speak(self, requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async for _ in requests:
            break
        chunk = AudioFrame(frame(1) + frame(2) + frame(3), 1, 0, RATE, "c1")
        yield speak_response_to_pb(SpeechAudio("t1", 0, chunk))
        yield speak_response_to_pb(SpeechAudio("t1", 0, AudioFrame(frame(4), 4, 60, RATE, "c1")))
        yield speak_response_to_pb(SpeechTextDone("t1", 0))

    async def Listen(self, requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async for msg in requests:
            event = listen_request_from_pb(msg)
            if isinstance(event, AudioFrame):
                self.heard.append(event)
            else:
                self.configs.append(event)
        if False:  # an async generator that answers nothing
            yield None


async def test_a_received_chunk_comes_out_one_numbered_frame_at_a_time() -> None:
    servicer = ChunkedSpeech()
    add = functools.partial(speech_pb2_grpc.add_SpeechServicer_to_server, servicer)
    async with serving("switchboard.v1.Speech", add) as address:
        client = SpeechClient(address)
        try:
            stream = await client.speak(SpeakConfig("c1", RATE, frames_per_message=4))
            await stream.send(SpeakText("t1", 0, "Hello."))
            events = [await stream.receive() for _ in range(5)]
            await stream.close()
        finally:
            await client.close()
    audio = [e for e in events if isinstance(e, SpeechAudio)]
    assert [a.pcm for a in audio] == [frame(1), frame(2), frame(3), frame(4)]
    assert [a.frame.seq for a in audio] == [1, 2, 3, 4]
    assert [a.frame.timestamp_ms for a in audio] == [0, 20, 40, 60]
    assert all(a.turn_id == "t1" and a.index == 0 for a in audio)
    assert events[-1] == SpeechTextDone("t1", 0)


async def test_listen_numbers_a_chunk_by_its_first_frame() -> None:
    servicer = ChunkedSpeech()
    add = functools.partial(speech_pb2_grpc.add_SpeechServicer_to_server, servicer)
    async with serving("switchboard.v1.Speech", add) as address:
        client = SpeechClient(address)
        try:
            config = ListenConfig("c1", RATE, "en-US", frames_per_message=5)
            stream = await client.listen(config)
            await stream.send_frame(frame(1) + frame(2) + frame(3))
            await stream.send_frame(frame(4))
            await stream.send_frame(frame(5) + frame(6))
            for _ in range(100):
                if len(servicer.heard) == 3:
                    break
                await asyncio.sleep(0.01)
            await stream.close()
        finally:
            await client.close()
    assert servicer.configs == [ListenConfig("c1", RATE, "en-US", 5)]
    assert [(f.seq, f.timestamp_ms, len(f.pcm) // SIZE) for f in servicer.heard] == [
        (0, 0, 3),
        (3, 60, 1),
        (4, 80, 2),
    ]
