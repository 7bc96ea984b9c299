"""lib's Speech client against a scripted Speech service over real gRPC (port 0)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from switchboard.media import AudioFrame
from switchboard.speech import SpeakConfig, SpeakRequest, SpeakText, SpeechAudio, SpeechTextDone
from switchboard.speech_client import SpeechClient
from switchboard.speech_wire import speak_request_from_pb, speak_response_to_pb
from switchboard.v1 import speech_pb2_grpc
from switchboard_testing.grpc_servers import serving


def frame_of(text: str, part: int) -> bytes:
    return f"{text}#{part}".encode()


class ScriptedSpeech(speech_pb2_grpc.SpeechServicer):  # type: ignore[misc]
    """Renders each text as two frames, answering the texts in reverse order of arrival
    once it has two of them (a provider is free to interleave sentences' audio)."""

    def __init__(self) -> None:
        self.requests: list[SpeakRequest | None] = []

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
