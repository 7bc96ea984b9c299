"""Caller audio to Listen a few frames a message: what is already there leaves together (up
to the config's ``frames_per_message``), nothing waits for a message to fill, and a
replay after a speech restart goes the same way. Frames are told apart by their fill
byte (frame *n* is filled with ``n % 256``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from switchboard.speech import ListenConfig, SpeechStarted
from switchboard_dialer.media.listen_replay import ReplayBuffer
from switchboard_dialer.media.speech_links import ListenLink
from switchboard_testing.clock import VirtualClock
from switchboard_testing.speech_fakes import FakeSpeech, frame_of

RATE = 8000
PER_MESSAGE = 5


def frame(n: int) -> bytes:
    return frame_of(RATE, n % 256)


def numbers(frames: list[bytes]) -> list[int]:
    return [pcm[0] for pcm in frames]


async def test_a_chunk_is_the_frames_already_there_at_most_the_limit() -> None:
    buffer = ReplayBuffer("call-1")
    for n in range(7):
        buffer.append(frame(n))
    assert await buffer.chunk(0, 5) == (b"".join(frame(n) for n in range(5)), 5)
    assert await buffer.chunk(5, 5) == (frame(5) + frame(6), 2)
    assert await buffer.chunk(6, 0) == (frame(6), 1)  # 0 or 1: one frame
    waiting = asyncio.ensure_future(buffer.chunk(7, 5))
    await asyncio.sleep(0)
    assert not waiting.done()  # the next frame is not there yet: it waits for it only
    buffer.append(frame(7))
    assert await waiting == (frame(7), 1)
    buffer.heard_until(3 * 20)  # frames 0-2 go
    assert await buffer.chunk(0, 2) == (frame(3) + frame(4), 2)  # from the oldest kept
    buffer.close()
    assert await buffer.chunk(8, 5) is None


class Rig:
    def __init__(self, per_message: int) -> None:
        self.clock = VirtualClock()
        self.speech = FakeSpeech()
        self.frames: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sent = 0

        async def on_event(event: object) -> None:
            pass

        self.link = ListenLink(
            self.speech,
            ListenConfig("call-1", RATE, "en-US", per_message),
            self.frames.get,
            on_event,
            lambda reconnect: None,
            reconnect_timeout_sec=10,
            clock=self.clock,
        )

    def speak(self, count: int) -> None:
        """``count`` frames from the line at once (a carrier's bridge sends a few)."""
        for _ in range(count):
            self.frames.put_nowait(frame(self.sent))
            self.sent += 1


@pytest.fixture
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    rig = Rig(getattr(request, "param", PER_MESSAGE))
    task = asyncio.create_task(rig.link.run(), name="listen-link")
    await rig.clock.settle()
    yield rig
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_frames_that_arrive_together_leave_in_messages_of_at_most_the_limit(
    rig: Rig,
) -> None:
    rig.speak(3)
    await rig.clock.settle()
    rig.speak(12)
    await rig.clock.settle()
    ear = rig.speech.ear
    assert numbers(ear.received) == list(range(15))
    assert ear.messages == 1 + 3  # 3, then 5 + 5 + 2
    assert rig.link.sent_ms == 15 * 20


@pytest.mark.parametrize("rig", [0], indirect=True)
async def test_without_a_limit_every_frame_is_a_message(rig: Rig) -> None:
    rig.speak(6)
    await rig.clock.settle()
    assert numbers(rig.speech.ear.received) == list(range(6))
    assert rig.speech.ear.messages == 6


async def test_a_replay_after_a_restart_goes_in_chunks(rig: Rig) -> None:
    rig.speak(4)
    await rig.clock.settle()
    first = rig.speech.ear
    first.emit(SpeechStarted(offset_ms=0))  # an utterance is open: its audio is kept
    await rig.clock.settle()
    rig.speech.restart()
    await rig.clock.settle()
    rig.speak(8)  # while no stream is open
    await rig.clock.settle()
    await rig.clock.elapse(0.1)
    await rig.clock.settle()
    second = rig.speech.ear
    assert second is not first
    assert numbers(second.received) == list(range(12))  # all of it, replayed in order
    assert second.messages == 3  # 5 + 5 + 2
