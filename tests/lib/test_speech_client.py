"""lib's Speech client against a scripted Speech service over real gRPC (port 0)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from switchboard.domain import ClaimFieldType
from switchboard.media import AudioFrame, ExpectedAnswer
from switchboard.speech import (
    ListenConfig,
    ListenRequest,
    SpeakConfig,
    SpeakRequest,
    SpeakText,
    SpeechAudio,
    SpeechTextDone,
)
from switchboard.speech_client import SpeechClient
from switchboard.speech_wire import (
    listen_request_from_pb,
    speak_request_from_pb,
    speak_response_to_pb,
)
from switchboard.v1 import speech_pb2_grpc
from switchboard_testing.grpc_servers import serving


def frame_of(text: str, part: int) -> bytes:
    return f"{text}#{part}".encode()


class ScriptedSpeech(speech_pb2_grpc.SpeechServicer):  # type: ignore[misc]
    """Renders each text as two frames, answering the texts in reverse order of arrival
    once it has two of them (a provider is free to interleave sentences' audio)."""

    def __init__(self) -> None:
        self.requests: list[SpeakRequest | None] = []
        self.heard: list[ListenRequest | None] = []

    async def Listen(self, requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async for msg in requests:
            self.heard.append(listen_request_from_pb(msg))
        return
        yield  # an async generator that sends nothing

    async def Speak(self, requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        texts: list[SpeakText] = []
        async for msg in requests:
            request = speak_request_from_pb(msg)
            self.requests.append(request)
            if isinstance(request, SpeakText):
                texts.append(request)
            if len(texts) == 2:
                break
        for text in reversed(texts):
            for part in range(2):
                frame = AudioFrame(frame_of(text.text, part), seq=part)
                yield speak_response_to_pb(SpeechAudio(text.turn_id, text.index, frame))
            yield speak_response_to_pb(SpeechTextDone(text.turn_id, text.index))


@pytest.fixture
async def speech() -> AsyncIterator[tuple[ScriptedSpeech, SpeechClient]]:
    servicer = ScriptedSpeech()
    with_speech = functools.partial(speech_pb2_grpc.add_SpeechServicer_to_server, servicer)
    async with serving("switchboard.v1.Speech", with_speech) as address:
        client = SpeechClient(address)
        try:
            yield servicer, client
        finally:
            await client.close()


async def test_synthesis_returns_each_texts_frames_in_the_order_the_texts_were_given(
    speech: tuple[ScriptedSpeech, SpeechClient],
) -> None:
    servicer, client = speech
    config = SpeakConfig("callee", 8000, lang="en-US")

    audio = await client.synthesise(config, ["Hello.", "It was Monday."], turn_id="callee")

    assert audio == [
        [frame_of("Hello.", 0), frame_of("Hello.", 1)],
        [frame_of("It was Monday.", 0), frame_of("It was Monday.", 1)],
    ]
    assert servicer.requests == [
        config,
        SpeakText("callee", 0, "Hello."),
        SpeakText("callee", 1, "It was Monday."),
    ]


async def test_synthesising_nothing_opens_no_stream(
    speech: tuple[ScriptedSpeech, SpeechClient],
) -> None:
    servicer, client = speech

    assert await client.synthesise(SpeakConfig(), []) == []
    assert servicer.requests == []


async def test_what_the_bot_expects_can_be_sent_while_frames_are_streaming(
    speech: tuple[ScriptedSpeech, SpeechClient],
) -> None:
    """grpc.aio allows one write at a time: a hint sent from the brain's task while the
    frame task writes must wait its turn, not break the stream."""
    servicer, client = speech
    stream = await client.listen(ListenConfig("call-1", 8000))
    expected = ExpectedAnswer(ClaimFieldType.EMAIL, "US")

    async def frames() -> None:
        for _ in range(200):
            await stream.send_frame(b"\0" * 320)

    async def hints() -> None:
        for _ in range(20):
            await stream.expect(expected)
            await asyncio.sleep(0)

    await asyncio.gather(frames(), hints())
    await stream._call.done_writing()  # no public "end of audio": the dialer never ends
    assert await stream.receive() is None  # the service read everything, then closed
    assert sum(isinstance(r, AudioFrame) for r in servicer.heard) == 200
    assert servicer.heard.count(expected) == 20
