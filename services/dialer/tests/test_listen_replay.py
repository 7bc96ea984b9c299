"""The caller's audio replayed into a new Listen stream after a speech restart.

The buffer on its own, then the Listen link with the fake speech service on the
virtual clock: frames are told apart by their fill byte (frame *n* is filled with
``n % 256``), so a test sees exactly which frames each stream got.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from switchboard.errors import Unavailable
from switchboard.media import FRAME_MS
from switchboard.speech import (
    ListenConfig,
    ListenResponse,
    SpeechEnded,
    SpeechStarted,
    Transcript,
)
from switchboard_dialer.media.listen_replay import IDLE_KEEP_MS, MAX_REPLAY_MS, ReplayBuffer
from switchboard_dialer.media.speech_links import ListenLink
from switchboard_testing.clock import VirtualClock
from switchboard_testing.speech_fakes import FakeSpeech, frame_of

RATE = 8000


def frame(n: int) -> bytes:
    return frame_of(RATE, n % 256)


def numbers(frames: list[bytes]) -> list[int]:
    return [pcm[0] for pcm in frames]


# The buffer.


async def test_the_buffer_keeps_every_frame_after_the_last_final_and_drops_what_it_covered():
    buffer = ReplayBuffer("call-1")
    for n in range(10):
        buffer.append(frame(n))

    buffer.heard_until(4 * FRAME_MS)  # a final ended where frame 4 starts

    assert (buffer.first, buffer.end, buffer.kept_ms) == (4, 10, 6 * FRAME_MS)
    assert numbers([await buffer.frame(n) or b"" for n in range(4, 10)]) == list(range(4, 10))


async def test_the_buffer_holds_at_most_thirty_seconds_dropping_the_oldest():
    buffer = ReplayBuffer("call-1")
    cap = MAX_REPLAY_MS // FRAME_MS
    for n in range(cap + 25):
        buffer.append(frame(n))

    assert buffer.kept_ms == MAX_REPLAY_MS
    assert (buffer.first, buffer.dropped) == (25, 25)
    assert (await buffer.frame(25) or b"")[0] == 25


async def test_without_an_open_utterance_the_buffer_keeps_only_the_last_seconds_before_the_cursor():
    buffer = ReplayBuffer("call-1")
    keep = IDLE_KEEP_MS // FRAME_MS
    for n in range(keep + 100):
        buffer.append(frame(n))

    buffer.idle(sending=keep + 60)  # 40 frames not yet sent: they stay too

    assert (buffer.first, buffer.end) == (60, keep + 100)


async def test_a_frame_not_yet_arrived_is_waited_for_and_none_comes_once_the_caller_is_gone():
    buffer = ReplayBuffer("call-1")
    waiting = asyncio.create_task(buffer.frame(0))
    await asyncio.sleep(0)
    assert not waiting.done()

    buffer.append(frame(7))
    assert await waiting == frame(7)

    buffer.close()
    assert await buffer.frame(1) is None


# The Listen link.


class Line:
    """The caller's side of a line: frames the test pushes, None when they hang up."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sent = 0

    def speak(self, count: int) -> None:
        for _ in range(count):
            self.frames.put_nowait(frame(self.sent))
            self.sent += 1

    async def read(self) -> bytes | None:
        return await self.frames.get()


class Rig:
    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.speech = FakeSpeech()
        self.line = Line()
        self.events: list[ListenResponse] = []
        self.opened: list[bool] = []

        async def on_event(event: ListenResponse) -> None:
            self.events.append(event)

        self.link = ListenLink(
            self.speech,
            ListenConfig("call-1", RATE, "en-US"),
            self.line.read,
            on_event,
            self.opened.append,
            reconnect_timeout_sec=10,
            clock=self.clock,
        )

    def finals(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, Transcript) and e.is_final]

    async def restart_speech(self) -> None:
        """The speech process dies and is back before the first retry."""
        self.speech.restart()
        await self.clock.settle()
        await self.clock.elapse(0.1)
        await self.clock.settle()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig()
    task = asyncio.create_task(rig.link.run(), name="listen-link")
    await rig.clock.settle()
    yield rig
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def final(text: str, start_ms: int, end_ms: int) -> Transcript:
    return Transcript(text, is_final=True, confidence=0.9, start_ms=start_ms, end_ms=end_ms)


async def test_an_utterance_cut_by_a_speech_restart_is_replayed_whole_then_live_frames_follow(
    rig: Rig,
):
    rig.line.speak(10)  # frames 0-9: an answer, heard and transcribed
    await rig.clock.settle()
    first = rig.speech.ear
    first.emit(SpeechStarted(offset_ms=40))
    first.emit(final("it was yesterday", 40, 10 * FRAME_MS))
    rig.line.speak(15)  # frames 10-24: the next answer, cut by the restart
    await rig.clock.settle()
    first.emit(SpeechStarted(offset_ms=12 * FRAME_MS))
    await rig.clock.settle()

    await rig.restart_speech()
    rig.line.speak(5)  # frames 25-29: live
    await rig.clock.settle()

    second = rig.speech.ear
    assert second is not first and rig.opened == [False, True]
    assert numbers(first.received) == list(range(25))
    assert numbers(second.received) == list(range(10, 30))  # replay from the final's end
    assert rig.link.replayed_ms == 15 * FRAME_MS


async def test_frames_that_arrive_while_speech_is_down_are_kept_for_the_next_stream(rig: Rig):
    rig.speech.down = True
    await rig.restart_speech()  # the retry is refused: no stream now
    rig.line.speak(40)  # the caller speaks into the outage
    await rig.clock.settle()
    rig.speech.down = False
    await rig.clock.elapse(0.5)
    await rig.clock.settle()

    assert len(rig.speech.listens) == 2
    assert numbers(rig.speech.ear.received) == list(range(40))


async def test_a_replayed_stream_never_delivers_a_final_again(rig: Rig):
    rig.line.speak(20)
    await rig.clock.settle()
    rig.speech.ear.emit(SpeechStarted(offset_ms=0))
    rig.speech.ear.emit(final("my e-mail is kim at example dot com", 0, 20 * FRAME_MS))
    await rig.clock.settle()
    await rig.restart_speech()

    # A recogniser whose offsets overlap the last final (the new stream starts at frame 20).
    rig.speech.ear.emit(SpeechStarted(offset_ms=0))
    rig.speech.ear.emit(SpeechEnded(offset_ms=0))
    rig.speech.ear.emit(final("com", -100, 0))
    rig.line.speak(10)
    await rig.clock.settle()
    rig.speech.ear.emit(SpeechStarted(offset_ms=40))
    rig.speech.ear.emit(final("a pipe burst", 40, 8 * FRAME_MS))
    await rig.clock.settle()

    assert rig.finals() == ["my e-mail is kim at example dot com", "a pipe burst"]
    assert rig.link.replay.first == 28  # the buffer dropped what the last final covered


async def test_a_long_silence_is_not_kept_for_a_replay(rig: Rig):
    keep = IDLE_KEEP_MS // FRAME_MS
    for _ in range(15):  # 15 s of silence, a second at a time: no utterance opened
        rig.line.speak(50)
        await rig.clock.settle()
    await rig.restart_speech()

    assert len(rig.speech.ear.received) <= keep + 50  # 5 s before the cursor, and the last second


async def test_an_open_utterance_is_kept_however_long_until_its_final(rig: Rig):
    rig.line.speak(5)
    await rig.clock.settle()
    rig.speech.ear.emit(SpeechStarted(offset_ms=0))
    await rig.clock.settle()
    keep = IDLE_KEEP_MS // FRAME_MS
    rig.line.speak(keep * 2)  # a 10 s answer, no final yet
    await rig.clock.settle()
    await rig.restart_speech()

    assert numbers(rig.speech.ear.received) == [n % 256 for n in range(5 + keep * 2)]


async def test_the_speech_service_staying_away_ends_the_link_with_unavailable():
    rig = Rig()
    rig.speech.down = True
    task = asyncio.create_task(rig.link.run(), name="listen-link")
    for _ in range(40):
        await rig.clock.elapse(0.5)
    with pytest.raises(Unavailable):
        await asyncio.wait_for(task, 1)
