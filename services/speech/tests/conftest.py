"""Shared fixtures: real models loaded once per session, gRPC servers per test."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from switchboard.config import Features
from switchboard.features import FeatureFlags
from switchboard.server import GrpcService
from switchboard.v1 import speech_pb2_grpc
from switchboard_speech.engines import SpeechEngines
from switchboard_speech.fakes import FakeSTT, FakeTTS, FakeVad
from switchboard_speech.servicer import SpeechServicer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

# Sentences used by the real-model tests (indexes into callee_sentences.txt).
SUBSET = [0, 6, 8]


@pytest.fixture(scope="session")
def real_engines() -> Iterator[SpeechEngines]:
    from switchboard_speech.stt.whisper import WhisperSTT
    from switchboard_speech.tts.piper import PiperTTS
    from switchboard_speech.vad.webrtc import WebRtcVad

    engines = SpeechEngines(vad=WebRtcVad(), stt=WhisperSTT(), tts=PiperTTS())
    engines.warm_up()
    yield engines
    engines.close()


@pytest.fixture(scope="session")
def clips(real_engines: SpeechEngines) -> dict[tuple[int, int], Any]:
    """Clean Piper clips of SUBSET at 8 and 16 kHz, generated on first use."""
    import make_fixtures

    made = make_fixtures.ensure_clips(
        SUBSET,
        engines=("piper",),
        conditions=("clean",),
        renderer=make_fixtures.Renderer(real_engines.tts),
    )
    return {(clip.id, clip.rate): clip for clip in made}


@pytest.fixture
def fake_engines() -> SpeechEngines:
    return SpeechEngines(vad=FakeVad(), stt=FakeSTT(), tts=FakeTTS())


@pytest.fixture
def flags() -> FeatureFlags:
    return FeatureFlags(Features(), Path("/nonexistent/switchboard.yaml"))


async def _serve(engines: SpeechEngines, flags: FeatureFlags) -> AsyncIterator[Any]:
    service = GrpcService("speech", "127.0.0.1:0", ["switchboard.v1.Speech"])
    speech_pb2_grpc.add_SpeechServicer_to_server(SpeechServicer(engines, flags), service.server)
    port = await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield speech_pb2_grpc.SpeechStub(channel)
    finally:
        await channel.close()
        await service.stop(grace=0.5)


@pytest.fixture
async def fake_stub(fake_engines: SpeechEngines, flags: FeatureFlags) -> AsyncIterator[Any]:
    async for stub in _serve(fake_engines, flags):
        yield stub


@pytest.fixture
async def real_stub(real_engines: SpeechEngines, flags: FeatureFlags) -> AsyncIterator[Any]:
    async for stub in _serve(real_engines, flags):
        yield stub
