"""Bad input over real gRPC (fake engines): clear INVALID_ARGUMENTs, bounded streams,
and a bad stream never disturbs another one."""

from __future__ import annotations

import asyncio
import tracemalloc
from typing import Any

import grpc
import pytest

from switchboard.v1 import common_pb2, speech_pb2
from switchboard_speech.fakes import silence_frame, speech_frame

L = speech_pb2.ListenRequest
S = speech_pb2.SpeakRequest


def listen_config(rate: int = 8000) -> Any:
    return L(config=speech_pb2.ListenConfig(call_id="c1", sample_rate=rate, lang="en-US"))


def audio(pcm: bytes, rate: int = 8000, seq: int = 0) -> Any:
    return L(audio=common_pb2.AudioFrame(call_id="c1", seq=seq, sample_rate=rate, pcm=pcm))


def speak_config(voice: str = "", rate: float = 1.0) -> Any:
    return S(
        config=speech_pb2.SpeakConfig(
            call_id="c1", sample_rate=8000, voice=voice, lang="en-US", prosody_rate=rate
        )
    )


@pytest.mark.parametrize(
    ("requests", "detail"),
    [
        ([audio(silence_frame())], "first ListenRequest must be `config`"),
        ([listen_config(44100)], "8000 or 16000"),
        ([listen_config(), audio(b"\x00" * 321)], "odd length"),
        ([listen_config(), audio(b"\x00" * 640)], "320 bytes"),
        ([listen_config(), audio(silence_frame(16000), rate=16000)], "16000 Hz"),
        ([listen_config(), listen_config()], "must be `audio`, `settings` or `expecting`"),
        ([listen_config(), L()], "must be `audio`, `settings` or `expecting`"),
        ([listen_config(), audio(b"not audio at all")], "a 20 ms PCM16 frame"),
    ],
)
async def test_listen_refuses_bad_input_with_invalid_argument(
    fake_stub: Any, requests: list[Any], detail: str
) -> None:
    call = fake_stub.Listen()
    for request in requests:
        await call.write(request)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        while await call.read() is not grpc.aio.EOF:
            pass
        await call.code()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert detail in (caught.value.details() or "")


async def test_a_never_ending_listen_stream_stays_bounded_and_cancels_cleanly(
    fake_stub: Any,
) -> None:
    call = fake_stub.Listen()
    await call.write(listen_config())
    events: list[Any] = []

    async def read() -> None:
        while (response := await call.read()) is not grpc.aio.EOF:
            events.append(response)

    reader = asyncio.create_task(read(), name="test-listen-reader")
    tracemalloc.start()
    for i in range(3000):  # one minute of audio: talk 1 s, pause 1 s
        await call.write(audio(speech_frame() if (i // 50) % 2 == 0 else silence_frame(), seq=i))
        if i == 500:
            baseline, _ = tracemalloc.get_traced_memory()
    grown, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert grown - baseline < 2_000_000
    await asyncio.sleep(0.1)
    assert sum(r.WhichOneof("event") == "transcript" for r in events) >= 25
    call.cancel()
    await asyncio.wait_for(asyncio.gather(reader, return_exceptions=True), 2)
    assert await call.code() == grpc.StatusCode.CANCELLED


async def test_a_bad_listen_stream_does_not_disturb_another(fake_stub: Any) -> None:
    good = fake_stub.Listen()
    await good.write(listen_config())
    bad = fake_stub.Listen()
    await bad.write(listen_config())
    for _ in range(10):
        await good.write(audio(speech_frame()))
    await bad.write(audio(b"\x00" * 7))
    for _ in range(30):
        await good.write(audio(silence_frame()))
    await good.done_writing()
    kinds = []
    while (response := await good.read()) is not grpc.aio.EOF:
        kinds.append(response.WhichOneof("event"))
    assert kinds == ["speech_started", "speech_ended", "transcript"]
    assert await good.code() == grpc.StatusCode.OK
    with pytest.raises(grpc.aio.AioRpcError):
        await bad.read()
    assert await bad.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("requests", "detail"),
    [
        ([S(text=speech_pb2.SpeakText(turn_id="t", text="hi"))], "first SpeakRequest"),
        ([speak_config(voice="nobody")], "unknown voice"),
        ([speak_config(rate=2.0)], "prosody_rate"),
        (
            [speak_config(), S(text=speech_pb2.SpeakText(turn_id="t", text="a" * 100_000))],
            "at most 5000",
        ),
        ([speak_config(), S(settings=speech_pb2.SpeakConfig(voice="nobody"))], "unknown voice"),
    ],
)
async def test_speak_refuses_bad_input_with_invalid_argument(
    fake_stub: Any, requests: list[Any], detail: str
) -> None:
    call = fake_stub.Speak()
    for request in requests:
        await call.write(request)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        while await call.read() is not grpc.aio.EOF:
            pass
        await call.code()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert detail in (caught.value.details() or "")


async def test_speak_streams_frames_and_done_while_another_stream_fails(fake_stub: Any) -> None:
    bad = fake_stub.Speak()
    await bad.write(speak_config(voice="nobody"))
    good = fake_stub.Speak()
    await good.write(speak_config())
    await good.write(S(text=speech_pb2.SpeakText(turn_id="t1", index=0, text="Hello.")))
    await good.done_writing()
    responses = []
    while (response := await good.read()) is not grpc.aio.EOF:
        responses.append(response)
    assert [r.audio.frame.sample_rate for r in responses[:-1]] == [8000] * 6
    assert responses[-1].done.turn_id == "t1"
    with pytest.raises(grpc.aio.AioRpcError):
        await bad.read()
