"""``CallRecorder``: both sides of one voice call, spooled to a private temporary WAV.

Per frame the recorder does one clock reading and one list append (:meth:`caller_frame`
as the pipeline reads the line, :meth:`bot_frame` as playout sends to it). Every
``BATCH_SEC`` its :meth:`run` task hands the frames gathered so far to a worker
thread, which lays them on the call's media clock and appends them to the file
(:class:`~switchboard_dialer.media.stereo_wav.StereoTimeline`): a 30-minute call is
never held in memory, and the event loop never interleaves samples.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from switchboard.clock import Clock
from switchboard.media import FRAME_MS
from switchboard_dialer.media.speech_links import FrameSource
from switchboard_dialer.media.stereo_wav import StereoTimeline, TimedFrames

# How often gathered frames go to the file.
BATCH_SEC = 5.0


class CallRecorder:
    """Gathers a call's frames and writes them to ``path`` (0600) as a stereo WAV."""

    def __init__(
        self,
        call_id: str,
        sample_rate: int,
        clock: Clock,
        spool_dir: str = "",
        speed: float = 1.0,
    ) -> None:
        self.call_id = call_id
        self._clock = clock
        descriptor, name = tempfile.mkstemp(prefix="call-", suffix=".wav", dir=spool_dir or None)
        self.path = Path(name)  # mkstemp: created 0600, named without call data
        self._file = os.fdopen(descriptor, "w+b")
        tick_sec = FRAME_MS / 1000 / max(1.0, speed)
        self._timeline = StereoTimeline(self._file, sample_rate, clock.monotonic(), tick_sec)
        self._caller: TimedFrames = []
        self._bot: TimedFrames = []
        self._monotonic = clock.monotonic
        self.frames = 0

    # The taps: cheap, on the media path.

    def caller_frame(self, pcm: bytes) -> None:
        self._caller.append((self._monotonic(), pcm))

    def bot_frame(self, pcm: bytes) -> None:
        self._bot.append((self._monotonic(), pcm))

    def tap(self, frames: FrameSource) -> FrameSource:
        """``frames`` (the line's reader), each caller frame recorded as it is read."""
        caller_frame = self.caller_frame

        async def read_recorded() -> bytes | None:
            pcm = await frames()
            if pcm is not None:
                caller_frame(pcm)
            return pcm

        return read_recorded

    # Off the media path.

    async def run(self) -> None:
        """Writes the gathered frames every ``BATCH_SEC`` until cancelled."""
        while True:
            await self._clock.sleep(BATCH_SEC)
            caller, bot = self._take()
            await asyncio.to_thread(self._timeline.add, caller, bot, self._clock.monotonic())

    async def finish(self) -> Path:
        """Writes the last frames and completes the file; returns its path."""
        caller, bot = self._take()
        try:
            await asyncio.to_thread(self._timeline.close, caller, bot)
        finally:
            self._file.close()
        return self.path

    def discard(self) -> None:
        """Removes the spooled file (stored, or not to be kept)."""
        self._file.close()
        self.path.unlink(missing_ok=True)

    def _take(self) -> tuple[TimedFrames, TimedFrames]:
        caller, bot = self._caller, self._bot
        self._caller, self._bot = [], []
        self.frames += len(caller)
        return caller, bot
