"""What the simulator, Twilio and ACS lines share: the caller side (:class:`QueuedCallerLine`)
and dropping queued bot audio at a barge-in (:func:`drop_queued_audio`)."""

from __future__ import annotations

import asyncio

from switchboard.media import FRAME_MS
from switchboard.phone import AudioFrame, BotTurnDone, PhoneDownlink
from switchboard_dialer.telephony.base import (
    MAX_QUEUED_FRAMES,
    CallerDtmf,
    CallerGone,
    QueuedCallerLine,
    drop_queued_audio,
)

RATE = 8000
FRAME = 320  # bytes of one 20 ms PCM16 frame at 8 kHz


class RecordingLine(QueuedCallerLine):
    """A queued line that records what its ending did and keeps no carrier."""

    def __init__(self) -> None:
        super().__init__("call-1", RATE)
        self.left: list[CallerGone] = []

    def _caller_left(self, event: CallerGone) -> None:
        self.left.append(event)

    async def say(self, turn_id: str, text: str) -> None:
        """Nothing to say to: audio only."""

    async def turn_done(self, turn_id: str) -> None:
        """No carrier to tell."""

    async def transfer(self, target: str) -> None:
        self.caller(CallerGone(reason="transferred"))

    async def hang_up(self, reason: str) -> None:
        self.caller(CallerGone(reason=reason))


def frame(n: int) -> bytes:
    return bytes([n % 256]) * FRAME


async def test_events_arrive_in_order_and_caller_gone_is_final_and_repeated() -> None:
    line = RecordingLine()
    line.caller(CallerDtmf(digits="1"))
    line.caller(CallerGone(reason="caller_hangup"))
    line.caller(CallerDtmf(digits="2"))  # after the caller left: ignored
    line.caller(CallerGone(reason="line_dropped"))  # the first ending stands

    assert await line.next_event() == CallerDtmf(digits="1")
    assert await line.next_event() == CallerGone(reason="caller_hangup")
    assert await line.next_event() == CallerGone(reason="caller_hangup")
    assert line.gone
    assert line.left == [CallerGone(reason="caller_hangup")]


async def test_queued_frames_are_read_after_the_caller_left_then_none() -> None:
    line = RecordingLine()
    line.caller_frames(frame(1))
    line.caller(CallerGone(reason="caller_hangup"))

    assert await line.read_frame() == frame(1)
    assert await line.read_frame() is None


async def test_a_waiting_reader_wakes_for_a_frame_and_for_the_caller_leaving() -> None:
    line = RecordingLine()
    reader = asyncio.create_task(line.read_frame())
    await asyncio.sleep(0)
    line.caller_frames(frame(7))
    assert await asyncio.wait_for(reader, 1) == frame(7)

    reader = asyncio.create_task(line.read_frame())
    await asyncio.sleep(0)
    line.caller(CallerGone(reason="line_dropped"))
    assert await asyncio.wait_for(reader, 1) is None


async def test_a_chunk_of_several_frames_is_cut_and_only_the_newest_second_is_kept() -> None:
    line = RecordingLine()
    line.caller_frames(b"".join(frame(n) for n in range(3)))
    assert [await line.read_frame() for _ in range(3)] == [frame(0), frame(1), frame(2)]

    for n in range(MAX_QUEUED_FRAMES + 10):
        line.caller_frames(frame(n))
    line.caller(CallerGone(reason="caller_hangup"))
    kept = []
    while (pcm := await line.read_frame()) is not None:
        kept.append(pcm)
    assert kept == [frame(n) for n in range(10, MAX_QUEUED_FRAMES + 10)]


def test_bot_frames_are_numbered_and_timed_from_the_first() -> None:
    line = RecordingLine()
    first, second = line.next_audio_frame(frame(1)), line.next_audio_frame(frame(2))
    assert (first.seq, first.timestamp_ms, first.sample_rate) == (1, FRAME_MS, RATE)
    assert (second.seq, second.timestamp_ms, second.call_id) == (2, 2 * FRAME_MS, "call-1")


async def test_dropping_queued_audio_keeps_the_other_messages_and_the_end_mark_in_order() -> None:
    downlink: asyncio.Queue[PhoneDownlink | None] = asyncio.Queue()
    for item in (AudioFrame(frame(1)), BotTurnDone("t1"), AudioFrame(frame(2)), None):
        downlink.put_nowait(item)
    drop_queued_audio(downlink)
    assert [downlink.get_nowait() for _ in range(downlink.qsize())] == [BotTurnDone("t1"), None]
