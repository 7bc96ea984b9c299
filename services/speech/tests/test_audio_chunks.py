"""Several 20 ms frames a message, over real gRPC (fake engines): Listen hears a chunked
stream exactly as the same frames one by one, Speak sends at most ``frames_per_message``
frames a message and the same audio, and both refuse what the config does not allow."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from switchboard.v1 import common_pb2, speech_pb2
from switchboard_speech.fakes import silence_frame, speech_frame

L = speech_pb2.ListenRequest
S = speech_pb2.SpeakRequest
RATE = 8000

# An utterance: silence, 0.4 s of speech, then 1.2 s of silence (the turn ends).
CALLER = [silence_frame()] * 10 + [speech_frame()] * 20 + [silence_frame()] * 60


def listen_config(frames_per_message: int) -> Any:
    return L(
        config=speech_pb2.ListenConfig(
            call_id="c1", sample_rate=RATE, lang="en-US", frames_per_message=frames_per_message
        )
    )


async def status_after(call: Any, *requests: Any) -> tuple[grpc.StatusCode, str]:
    """Writes ``requests``, half-closes, and returns how the server ended the stream.

    Only the last request may be the refused one: a write after the server has ended the
    stream fails on the client, which then reports its own INTERNAL instead of the
    server's status."""
    for request in requests:
        await call.write(request)
    await call.done_writing()
    code = await asyncio.wait_for(call.code(), 5)
    return code, await call.details() or ""


async def listen_events(stub: Any, frames: list[bytes], per_message: int) -> list[str]:
    call = stub.Listen()
    await call.write(listen_config(per_message))
    for seq in range(0, len(frames), per_message):
        pcm = b"".join(frames[seq : seq + per_message])
        await call.write(
            L(
                audio=common_pb2.AudioFrame(
                    seq=seq, timestamp_ms=seq * 20, sample_rate=RATE, pcm=pcm
                )
            )
        )
    await call.done_writing()
    events = []
    while (response := await call.read()) is not grpc.aio.EOF:
        events.append(str(response).replace("\n", " "))
    return events


async def test_a_chunked_listen_stream_is_heard_as_its_frames_one_by_one(fake_stub: Any) -> None:
    one_by_one = await listen_events(fake_stub, CALLER, 1)
    chunked = await listen_events(fake_stub, CALLER, 5)
    assert any("speech_started" in event for event in one_by_one)
    assert any("is_final: true" in event for event in one_by_one)
    assert chunked == one_by_one  # same events, same offsets


@pytest.mark.parametrize(
    ("per_message", "pcm", "detail"),
    [
        (3, silence_frame() * 4, "at most 3 whole 20 ms"),
        (3, silence_frame() + b"\x00" * 2, "at most 3 whole 20 ms"),
        (0, silence_frame() * 2, "320 bytes"),  # one frame a message unless asked for
        (51, b"", "frames_per_message must be 0 to 50"),  # the config alone is refused
    ],
)
async def test_listen_refuses_chunks_its_config_does_not_allow(
    fake_stub: Any, per_message: int, pcm: bytes, detail: str
) -> None:
    audio = [L(audio=common_pb2.AudioFrame(sample_rate=RATE, pcm=pcm))] if pcm else []
    code, details = await status_after(fake_stub.Listen(), listen_config(per_message), *audio)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert detail in details


async def speak_audio(stub: Any, per_message: int) -> list[Any]:
    call = stub.Speak()
    await call.write(
        S(
            config=speech_pb2.SpeakConfig(
                call_id="c1", sample_rate=RATE, lang="en-US", frames_per_message=per_message
            )
        )
    )
    await call.write(S(text=speech_pb2.SpeakText(turn_id="t1", index=0, text="Hello there.")))
    await call.done_writing()
    frames = []
    while (response := await call.read()) is not grpc.aio.EOF:
        if response.WhichOneof("event") == "audio":
            frames.append(response.audio.frame)
        else:
            assert response.done.turn_id == "t1"
            break
    call.cancel()
    return frames


async def test_speak_sends_up_to_frames_per_message_and_the_same_audio(fake_stub: Any) -> None:
    single = await speak_audio(fake_stub, 0)
    chunked = await speak_audio(fake_stub, 4)
    size = len(silence_frame())
    assert all(len(frame.pcm) == size for frame in single)
    assert len(chunked) < len(single)
    assert all(len(frame.pcm) % size == 0 and len(frame.pcm) <= 4 * size for frame in chunked)
    assert b"".join(f.pcm for f in chunked) == b"".join(f.pcm for f in single)
    # Each message is numbered by its first frame, on the stream's frame clock.
    firsts = [1]
    for frame in chunked[:-1]:
        firsts.append(firsts[-1] + len(frame.pcm) // size)
    assert [frame.seq for frame in chunked] == firsts
    assert [frame.timestamp_ms for frame in chunked] == [(seq - 1) * 20 for seq in firsts]


async def test_speak_refuses_too_many_frames_per_message(fake_stub: Any) -> None:
    code, details = await status_after(
        fake_stub.Speak(),
        S(
            config=speech_pb2.SpeakConfig(
                call_id="c1", sample_rate=RATE, lang="en-US", frames_per_message=51
            )
        ),
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT, details
    assert "frames_per_message must be 0 to 50" in details
