"""Playout: bot frames to the line, one every 20 ms, on absolute monotonic deadlines.

Frame *n* of a run leaves at ``anchor + n x period``, so sleep jitter never
accumulates. A run starts as soon as a second frame (or the turn's end) is
queued behind the first, and ends when the queue runs dry or playout is paused;
the next run takes a new anchor. Speech sends a sentence's frames back to back,
one gRPC message each, so the playout task usually wakes with one frame queued
and the second lands a moment later: waiting for that frame, not for a fixed
time, keeps a reply from starting late while still not starting a run that
would underrun at once. A producer slower than that gets at most
``JITTER_WAIT_SEC``. Pausing is checked right before each frame leaves,
so at most the frame already sent keeps playing: playout stops within one frame.

Per frame: one sleep, one deque pop, one call to the line, a histogram bucket.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from switchboard.clock import Clock
from switchboard.speech import SpeechAudio

FRAME_SEC = 0.020
# Frames queued before a run starts, unless the turn's audio is complete already.
JITTER_FRAMES = 2
# The longest a run waits for the jitter buffer to fill before starting anyway.
JITTER_WAIT_SEC = 0.040
# Later than this, the run re-anchors instead of bursting frames to catch up
# (a burst would only fill the carrier's buffer and delay a barge-in).
MAX_CATCH_UP_SEC = 0.060
# Lateness histogram: 0.1 ms buckets up to 100 ms.
_BUCKETS = 1000
_BUCKET_SEC = 0.0001


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """Queued after a turn's last frame: playout reaching it means the turn was played."""

    turn_id: str


PlayoutItem = SpeechAudio | TurnEnd


class Lateness:
    """How late frames left, as a fixed histogram (no per-frame allocation)."""

    def __init__(self) -> None:
        self.counts = [0] * (_BUCKETS + 1)
        self.frames = 0
        self.max_sec = 0.0

    def record(self, late_sec: float) -> None:
        self.frames += 1
        if late_sec > self.max_sec:
            self.max_sec = late_sec
        bucket = int(late_sec / _BUCKET_SEC)
        self.counts[bucket if bucket < _BUCKETS else _BUCKETS] += 1

    def percentile_ms(self, q: float) -> float:
        """The q-th percentile (0-100) in milliseconds, to the bucket's upper edge."""
        if not self.frames:
            return 0.0
        wanted = q / 100 * self.frames
        seen = 0
        for bucket, count in enumerate(self.counts):
            seen += count
            if seen >= wanted and count:
                return (bucket + 1) * _BUCKET_SEC * 1000
        return self.max_sec * 1000

    def merge(self, other: Lateness) -> None:
        for i, count in enumerate(other.counts):
            self.counts[i] += count
        self.frames += other.frames
        self.max_sec = max(self.max_sec, other.max_sec)


class Playout:
    """The bot's audio queue of one call and the task that paces it to the line."""

    def __init__(
        self,
        play: Callable[[bytes], None],
        on_played: Callable[[SpeechAudio], None],
        on_turn_end: Callable[[str], Awaitable[None]],
        clock: Clock,
        speed: float = 1.0,
    ) -> None:
        self._play = play
        self._on_played = on_played
        self._on_turn_end = on_turn_end
        self._clock = clock
        self._period = FRAME_SEC / max(1.0, speed)
        self._queue: deque[PlayoutItem] = deque()
        self._wake = asyncio.Event()
        self._paused = False
        self.lateness = Lateness()
        self.frames_played = 0

    def set_speed(self, speed: float) -> None:
        """Faster than real time for simulated phones that ask for it (tests)."""
        self._period = FRAME_SEC / max(1.0, speed)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def queued_frames(self) -> int:
        return sum(1 for item in self._queue if isinstance(item, SpeechAudio))

    def push(self, item: PlayoutItem) -> None:
        self._queue.append(item)
        if not self._wake.is_set():
            self._wake.set()

    def pause(self) -> None:
        """Stops before the next frame; what is queued stays for :meth:`resume`."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._wake.set()

    def drop_turn(self, turn_id: str) -> int:
        """Removes a cancelled turn's queued audio (and its end marker); returns the frames."""
        before = len(self._queue)
        self._queue = deque(item for item in self._queue if item.turn_id != turn_id)
        return before - len(self._queue)

    async def run(self) -> None:
        """Plays until cancelled."""
        while True:
            await self._wait_playable()
            await self._fill_jitter_buffer()
            if not self._paused:
                await self._run_frames()

    async def _wait_playable(self) -> None:
        while self._paused or not self._queue:
            self._wake.clear()
            await self._wake.wait()

    def _buffered(self) -> bool:
        queue = self._queue
        return len(queue) >= JITTER_FRAMES or any(isinstance(i, TurnEnd) for i in queue)

    async def _fill_jitter_buffer(self) -> None:
        """Until the buffer holds enough to start, at most ``JITTER_WAIT_SEC``."""
        deadline = self._clock.monotonic() + JITTER_WAIT_SEC
        while not self._buffered() and not self._paused:
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                return
            self._wake.clear()
            await self._pushed_within(remaining)

    async def _pushed_within(self, seconds: float) -> None:
        """Until the next push, or ``seconds`` on the clock (once per run, not per frame)."""
        pushed = asyncio.create_task(self._wake.wait(), name="playout-jitter-push")
        timer = asyncio.create_task(self._clock.sleep(seconds), name="playout-jitter-timer")
        try:
            await asyncio.wait({pushed, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pushed.cancel()
            timer.cancel()

    async def _run_frames(self) -> None:
        clock, period = self._clock, self._period
        anchor = clock.monotonic()
        n = 0
        # self._queue is read afresh each time: drop_turn replaces it.
        while self._queue and not self._paused:
            item = self._queue[0]
            if isinstance(item, TurnEnd):
                self._queue.popleft()
                await self._on_turn_end(item.turn_id)
                return  # the next turn starts a run of its own, with a fresh anchor
            deadline = anchor + n * period
            delay = deadline - clock.monotonic()
            if delay > 0:
                await self._clock.sleep(delay)
                # Paused, dropped or cleared while we slept: this frame must not leave.
                if self._paused or not self._queue or self._queue[0] is not item:
                    return
            late = clock.monotonic() - deadline
            self.lateness.record(late if late > 0 else 0.0)
            if late > MAX_CATCH_UP_SEC:
                anchor += late
            self._queue.popleft()
            self._play(item.pcm)
            self.frames_played += 1
            self._on_played(item)
            n += 1
