"""``ReplayBuffer``: the caller's audio the speech service has not turned into a final yet.

A Listen stream that dies (the speech service restarted, a replica went away)
takes with it the utterance in flight: the frames it had not decoded, and the
frames that arrived while no stream was open. The dialer keeps them here, each
numbered on the call's own media clock (frame *n* starts at *n* x 20 ms), and a
new stream gets them first, before live frames, so the caller never has to
repeat themselves.

What is kept:

* every frame after the end of the last final transcript delivered
  (:meth:`ReplayBuffer.heard_until` drops what a final covered), so a replay
  never makes the speech service transcribe an answer the brain already has;
* at most ``MAX_REPLAY_MS`` (30 s, the speech service's longest utterance): past
  it the oldest frames go, a warning says so, and a replay starts mid-utterance;
* while no utterance is open (no ``speech_started`` without its final), only the
  last ``IDLE_KEEP_MS`` before the frame being sent: a long silence is not worth
  keeping, and this much covers the speech service's pre-roll, its start window
  and a short word it announces only when it ends (at default flags), plus the
  frames still in flight to it. Per call that is at most 30 s of audio (0.96 MB
  at 16 kHz), usually a few seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from switchboard.media import FRAME_MS

log = logging.getLogger(__name__)

MAX_REPLAY_MS = 30_000
IDLE_KEEP_MS = 5_000


class ReplayBuffer:
    """Caller frames since the last final transcript, numbered from the call's answer."""

    def __init__(
        self,
        call_id: str,
        max_ms: int = MAX_REPLAY_MS,
        idle_keep_ms: int = IDLE_KEEP_MS,
    ) -> None:
        self.call_id = call_id
        self._max_frames = max(1, max_ms // FRAME_MS)
        self._idle_keep_frames = max(1, idle_keep_ms // FRAME_MS)
        self._frames: deque[bytes] = deque()
        self._first = 0  # the number of self._frames[0]
        self._arrived = asyncio.Event()
        self._closed = False
        self._overflowing = False
        self.dropped = 0  # frames lost to the cap: a replay of them is incomplete

    @property
    def first(self) -> int:
        """The number of the oldest frame kept (where a new stream starts)."""
        return self._first

    @property
    def end(self) -> int:
        """The number the next frame from the line will get."""
        return self._first + len(self._frames)

    @property
    def kept_ms(self) -> int:
        return len(self._frames) * FRAME_MS

    def append(self, pcm: bytes) -> None:
        """A frame from the line; the oldest goes when the cap is reached."""
        self._frames.append(pcm)
        if len(self._frames) > self._max_frames:
            self._frames.popleft()
            self._first += 1
            self.dropped += 1
            if not self._overflowing:
                self._overflowing = True
                log.warning(
                    "caller audio without a final transcript passed the replay cap; "
                    "the oldest is dropped",
                    extra={"call_id": self.call_id, "cap_ms": self._max_frames * FRAME_MS},
                )
        self._arrived.set()

    def close(self) -> None:
        """The caller is gone: no frame will follow."""
        self._closed = True
        self._arrived.set()

    async def frame(self, number: int) -> bytes | None:
        """Frame ``number`` (waiting for it to arrive); None once the caller is gone.

        A number older than :attr:`first` (dropped meanwhile) gets the oldest kept
        frame instead: the caller of this method follows :attr:`first` then.
        """
        while number >= self.end:
            if self._closed:
                return None
            self._arrived.clear()
            await self._arrived.wait()
        return self._frames[max(0, number - self._first)]

    async def chunk(self, number: int, limit: int) -> tuple[bytes, int] | None:
        """Frame ``number`` and those after it that are here already, at most ``limit``
        in all, joined (waiting for the first); how many; None once the caller is gone.

        Numbers older than :attr:`first` start at the oldest kept frame, as in :meth:`frame`.
        """
        first = await self.frame(number)
        if first is None:
            return None
        start = max(0, number - self._first)
        stop = min(len(self._frames), start + max(1, limit))
        if stop - start == 1:
            return first, 1
        frames = self._frames
        return b"".join([frames[i] for i in range(start, stop)]), stop - start

    def heard_until(self, end_ms: int) -> None:
        """A final transcript covered the call's audio up to ``end_ms``: drop it."""
        self._drop_before(end_ms // FRAME_MS)

    def idle(self, sending: int) -> None:
        """No utterance is open and frame ``sending`` is the next to go: keep only
        the last ``idle_keep_ms`` before it."""
        self._drop_before(sending - self._idle_keep_frames)

    def _drop_before(self, number: int) -> None:
        while self._frames and self._first < number:
            self._frames.popleft()
            self._first += 1
        if len(self._frames) < self._max_frames:
            self._overflowing = False
