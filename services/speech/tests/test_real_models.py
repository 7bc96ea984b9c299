"""The offline models over real gRPC: whisper hears Piper at 8 kHz, Piper speaks 20 ms frames,
cancel stops at once. Models load once per session."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import grpc
import pytest

from switchboard.v1 import common_pb2, speech_pb2
from switchboard_speech.audio import frame_bytes, split_frames
from switchboard_speech.engines import SpeechEngines
from switchboard_speech.vad.silero import SileroVad

L = speech_pb2.ListenRequest
S = speech_pb2.SpeakRequest


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


async def listen(stub: Any, pcm: bytes, rate: int) -> list[Any]:
    call = stub.Listen()
    await call.write(L(config=speech_pb2.ListenConfig(call_id="c", sample_rate=rate, lang="en-US")))
    for seq, frame in enumerate(split_frames(pcm, rate)):
        await call.write(
            L(audio=common_pb2.AudioFrame(call_id="c", seq=seq, sample_rate=rate, pcm=frame))
        )
    await call.done_writing()
    responses = []
    while (response := await call.read()) is not grpc.aio.EOF:
        responses.append(response)
    return responses


@pytest.mark.parametrize("rate", [8000, 16000])
async def test_whisper_transcribes_a_piper_sentence_over_listen(
    real_stub: Any, clips: dict[tuple[int, int], Any], rate: int
) -> None:
    clip = clips[(0, rate)]  # "Hi, this is Sarah Johnson speaking."
    responses = await listen(real_stub, clip.pcm(), rate)
    kinds = [r.WhichOneof("event") for r in responses]
    assert kinds == ["speech_started", "speech_ended", "transcript"]
    final = responses[-1].transcript
    assert final.is_final and final.lang == "en-US"
    assert words(final.text) == words(clip.text)
    assert 200 <= responses[0].speech_started.offset_ms <= 400
    assert final.start_ms == responses[0].speech_started.offset_ms
    assert final.end_ms == responses[1].speech_ended.offset_ms
    assert 0.3 < final.confidence <= 1.0


async def test_a_short_answer_is_transcribed(
    real_stub: Any, clips: dict[tuple[int, int], Any]
) -> None:
    clip = clips[(8, 8000)]  # "Yes, that's correct."
    responses = await listen(real_stub, clip.pcm(), 8000)
    assert words(responses[-1].transcript.text) == words(clip.text)


async def speak_call(stub: Any, rate: int = 8000) -> Any:
    call = stub.Speak()
    await call.write(
        S(
            config=speech_pb2.SpeakConfig(
                call_id="c", sample_rate=rate, voice="joe", lang="en-US", prosody_rate=1.0
            )
        )
    )
    return call


@pytest.mark.parametrize("rate", [8000, 16000])
async def test_piper_audio_arrives_as_20_ms_frames_at_the_call_rate(
    real_stub: Any, rate: int
) -> None:
    call = await speak_call(real_stub, rate)
    await call.write(S(text=speech_pb2.SpeakText(turn_id="t1", index=0, text="Thank you.")))
    await call.done_writing()
    frames = []
    while (response := await call.read()) is not grpc.aio.EOF:
        if response.WhichOneof("event") == "audio":
            frames.append(response.audio)
        else:
            assert response.done.turn_id == "t1"
    assert all(len(f.frame.pcm) == frame_bytes(rate) for f in frames)
    assert all(f.frame.sample_rate == rate for f in frames)
    assert 0.4 < len(frames) * 0.02 < 2.0  # "Thank you." lasts about a second


async def test_slower_prosody_makes_longer_audio(real_engines: SpeechEngines) -> None:
    from switchboard_speech.tts.base import Voice

    tts: Any = real_engines.tts
    text = "Good morning, this is a short test of the speaking rate of the local voice."
    normal = len(tts.render(text, Voice("joe", "en-US", 1.0), 8000))
    slow = len(tts.render(text, Voice("joe", "en-US", 0.75), 8000))
    fast = len(tts.render(text, Voice("joe", "en-US", 1.25), 8000))
    assert fast < normal < slow


async def test_cancel_stops_a_turn_within_one_frame(real_stub: Any) -> None:
    call = await speak_call(real_stub)
    long_text = "This is a long answer that the caller will interrupt. " * 3
    await call.write(S(text=speech_pb2.SpeakText(turn_id="t1", index=0, text=long_text)))
    first = await call.read()
    assert first.audio.turn_id == "t1"
    await call.write(S(cancel=speech_pb2.CancelTurn(turn_id="t1")))
    await call.write(S(text=speech_pb2.SpeakText(turn_id="t2", index=0, text="Okay.")))
    await call.done_writing()
    after: list[Any] = []
    while (response := await call.read()) is not grpc.aio.EOF:
        after.append(response)
    t1_frames = [r for r in after if r.WhichOneof("event") == "audio" and r.audio.turn_id == "t1"]
    first_t2 = next(i for i, r in enumerate(after) if r.audio.turn_id == "t2")
    # Frames of t1 already in flight when the cancel was read may still arrive, but none
    # after t2 started, no `done` for t1, and far less than the whole turn.
    assert all(i < first_t2 for i, r in enumerate(after) if r.audio.turn_id == "t1")
    assert not any(r.WhichOneof("event") == "done" and r.done.turn_id == "t1" for r in after)
    assert len(t1_frames) < 150  # the full turn is ~600 frames
    assert after[-1].done.turn_id == "t2"


async def test_silero_hears_speech_and_not_silence(clips: dict[tuple[int, int], Any]) -> None:
    vad = SileroVad()
    for rate in (8000, 16000):
        stream = vad.stream(rate)
        decisions = [stream.is_speech(f, 0.5) for f in split_frames(clips[(0, rate)].pcm(), rate)]
        assert not any(decisions[:10]), "300 ms of leading silence"
        assert sum(decisions) > len(decisions) // 3
    await asyncio.sleep(0)
