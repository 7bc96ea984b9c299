"""``StereoTimeline``: a call's two sides laid on its media clock, written as a stereo WAV.

The media clock ticks once per 20 ms frame (faster when a simulated phone asks for
``playout_speed``). Each side's frames come with the dialer's monotonic reading when
they passed (caller: read from the line; bot: handed to the line), and each is given
one tick: caller frames on the left, bot frames on the right, silence wherever a side
has nothing (the bot between turns, the caller across lost frames).

Caller frames: a frame is read at or after its tick, never before, and a burst (frames
that queued while the dialer was busy) comes in faster than the clock. So a frame's
tick is the earliest its reading allows given the frames read after it, in order:
``tick[i] = min(floor(t[i]), tick[i + 1] - 1)``. A burst is spread back over the ticks
it queued in; a gap (lost frames) stays a gap, because the frames after it came on time.
The last ``HOLD_TICKS`` caller frames wait for the next batch, whose frames decide
where they go; a provider queues at most a second of frames, so that is enough.

Bot frames: playout sends them on the clock, so each takes the tick it was played in
(never one already taken). Work is done in batches, off the event loop; the file
grows as the call goes and the header is completed at :meth:`StereoTimeline.close`.
"""

from __future__ import annotations

import math
import threading
import wave
from typing import BinaryIO

# Frames: (dialer monotonic seconds, PCM16 mono at the call's rate).
TimedFrames = list[tuple[float, bytes]]

# Caller frames held back for the next batch (1.5 s).
HOLD_TICKS = 75


class StereoTimeline:
    """Caller left, bot right, 16-bit at ``sample_rate``, into ``file`` (seekable)."""

    def __init__(
        self, file: BinaryIO, sample_rate: int, start: float, tick_sec: float = 0.020
    ) -> None:
        self._wav = wave.open(file, "wb")  # closed by close()
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)
        self._frame_bytes = sample_rate // 50 * 2
        self._start = start
        self._tick_sec = tick_sec
        self._held: TimedFrames = []
        self._caller_next = 0  # the first tick a caller frame may still take
        self._bot_next = 0
        self._written = 0  # ticks already in the file; buffers start there
        self._left = bytearray()
        self._right = bytearray()
        self._lock = threading.Lock()  # a batch cut short by cancellation may still run
        self._closed = False

    @property
    def ticks_written(self) -> int:
        return self._written

    def add(self, caller: TimedFrames, bot: TimedFrames, now: float) -> None:
        """A batch of frames, each side in the order it passed; ``now`` is the clock."""
        with self._lock:
            if self._closed:
                return
            self._lay_caller(caller, final=False)
            self._lay_bot(bot)
            # A caller who sends nothing still moves the file on (well behind the clock).
            self._write_to(max(self._caller_next, self._tick(now) - 2 * HOLD_TICKS))

    def close(self, caller: TimedFrames, bot: TimedFrames) -> None:
        """The last frames; completes the file (its header) and closes it."""
        with self._lock:
            if self._closed:
                return
            self._lay_caller(caller, final=True)
            self._lay_bot(bot)
            self._write_to(max(self._caller_next, self._bot_next))
            self._closed = True
            self._wav.close()

    def _tick(self, at: float) -> int:
        return math.floor((at - self._start) / self._tick_sec + 1e-6)

    def _lay_caller(self, frames: TimedFrames, final: bool) -> None:
        held = self._held + frames
        if not held:
            return
        ticks = [self._tick(at) for at, _ in held]
        for i in range(len(ticks) - 2, -1, -1):
            if ticks[i] >= ticks[i + 1]:
                ticks[i] = ticks[i + 1] - 1
        placed = len(held) if final else max(0, len(held) - HOLD_TICKS)
        for i in range(placed):
            tick = max(ticks[i], self._caller_next)
            self._place(self._left, tick, held[i][1])
            self._caller_next = tick + 1
        self._held = held[placed:]

    def _lay_bot(self, frames: TimedFrames) -> None:
        for at, pcm in frames:
            tick = max(self._tick(at), self._bot_next)
            self._place(self._right, tick, pcm)
            self._bot_next = tick + 1

    def _place(self, side: bytearray, tick: int, pcm: bytes) -> None:
        size = self._frame_bytes
        at = (tick - self._written) * size
        if len(side) < at + size:
            side.extend(bytes(at + size - len(side)))
        side[at : at + size] = pcm[:size].ljust(size, b"\x00")

    def _write_to(self, tick: int) -> None:
        """Writes every tick before ``tick`` (silence where a side has nothing)."""
        count = tick - self._written
        if count <= 0:
            return
        size = count * self._frame_bytes
        left, right = self._left, self._right
        for side in (left, right):
            if len(side) < size:
                side.extend(bytes(size - len(side)))
        stereo = bytearray(size * 2)
        # Interleave 16-bit samples: L0 R0 L1 R1 ... (byte slices, at C speed).
        stereo[0::4] = left[0:size:2]
        stereo[1::4] = left[1:size:2]
        stereo[2::4] = right[0:size:2]
        stereo[3::4] = right[1:size:2]
        self._wav.writeframesraw(stereo)
        del left[:size]
        del right[:size]
        self._written = tick
        self._caller_next = max(self._caller_next, tick)
        self._bot_next = max(self._bot_next, tick)
