"""``DoubleTalk``: the caller talking over the bot's echo, heard in the audio.

On a line known to echo (see ``echo``) speech while the bot talks is first taken
for its echo, and only words that are not echo stop the bot. A recogniser without
partial transcripts (Whisper) gives those words when the utterance ends, and while
the bot talks its echo keeps the utterance going: the caller is heard only once
the bot finished. The audio says it sooner. The dialer knows what it played and
what comes back: the echo is the bot's frames some frames late and some dB down.
This module learns that path from the frames' energies, the lag at which the
caller's energy envelope follows the bot's best (a cross-correlation of log
energies) and the gain at that lag, and flags caller frames whose energy clearly
exceeds the echo the path predicts, ``RUN_FRAMES`` in a row: the caller's own voice.

Both sides sit on one axis, the count of caller frames read: a bot frame takes the
place after the previous bot frame's, never behind the count of caller frames
read when it was played (nor more than ``MAX_AHEAD_FRAMES`` ahead of it). Carriers
hand over caller audio in bursts (Twilio: 60 ms), so a frame's predicted echo is
the loudest bot frame within ``SLACK_FRAMES`` of the lag times the gain (the median
ratio of echo to bot at the lag): the prediction errs loud, so pure echo does not
pass for the caller (and if it did, the text rule would still resume the bot: a
false alarm is a pause, never an interruption).

The delay, counted in frames of each side, can jump during a call (on a loaded
machine one side's frames slip against the other's; a pause clears the carrier's
queue): the ends of the echo's sentences then lie where no echo is predicted and
would pass for the caller. So a run, before it counts, must also stay above the echo
predicted with ``VERIFY_SLACK_FRAMES`` more slack and along the lag learnt afresh
from the last ``VERIFY_FRAMES`` (see :meth:`DoubleTalk._run_holds`). This costs the
caller little: his voice goes on, and the next run is checked again.

Cost: a list slot per frame until :meth:`DoubleTalk.start` (the pipeline calls it
when the bot is first paused for speech that may be its echo); then one dot
product per frame each way and, every ``ESTIMATE_EVERY`` caller frames while the
bot talks (``KNOWN_PATH_SLOWDOWN`` times less often once a path is known), one
estimate over ``WINDOW_FRAMES`` frames: about 12 µs of CPU per 20 ms frame pair
(``tests/test_double_talk.py`` prints the figure), 0.6 µs before the start.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

# Frames of both envelopes kept for the estimate (5 s of 20 ms frames).
WINDOW_FRAMES = 250
# Echo paths up to this long (carrier round trip plus the handset's delay).
MAX_LAG_FRAMES = 40
# Burst delivery and playout jitter: the predicted echo is the loudest bot frame
# this many frames either side of the lags lately learnt (a handset's or carrier's
# jitter buffer lets the delay drift by a few frames during a call).
SLACK_FRAMES = 4
RECENT_LAGS = 4
# Frames of each side kept before the line is suspected of echoing (2.5 s).
HISTORY_FRAMES = 125
# A bot frame's place runs at most this far ahead of the caller frames read.
MAX_AHEAD_FRAMES = 8
# An estimate needs the bot to have spoken in this many frames of the window ...
MIN_BOT_FRAMES = 60
# ... and the envelopes to correlate at least this well (Pearson) at the best lag.
MIN_CORRELATION = 0.7
# The gain is this percentile of caller / bot energy at the lag, over the bot's frames.
GAIN_PERCENTILE = 50.0
# Estimate this often (caller frames) while the bot talks, until a path is known;
# then this much less often (the path of one call barely changes).
ESTIMATE_EVERY = 50
KNOWN_PATH_SLOWDOWN = 5
# A caller frame is the caller's voice when its energy exceeds the predicted echo
# this many times (9 dB) plus the line's noise floor ...
MARGIN = 8.0
# ... this many frames in a row.
RUN_FRAMES = 3
# A run is checked against a path estimated over this many recent frames (the bot
# speaking in this many of them): on a loaded machine the sides' frames can slip
# against each other, the echo's delay (as counted here) jumps, and the echo's ends
# no longer lie where they are predicted.
VERIFY_FRAMES = 100
VERIFY_BOT_FRAMES = 30
# A delay that just moved is not learnt yet: the run must also stay above the echo
# predicted with this many more frames of slack either side.
VERIFY_SLACK_FRAMES = 8
# A path learnt so from so few frames is the echo only if its gain is at most this
# many times (3 dB) the gain learnt.
VERIFY_GAIN_FACTOR = 2.0
# Bot frames quieter than this (mean square of PCM16, RMS 100) are silence.
BOT_ACTIVE_ENERGY = 100.0**2
# The floor is at least this (RMS 150), this many times the line's quiet frames, and
# this share (-3 dB) of the echo's median level.
MIN_FLOOR_ENERGY = 150.0**2
FLOOR_FACTOR = 4.0
FLOOR_PERCENTILE = 20.0
ECHO_LEVEL_SHARE = 0.5

_RING = 512  # > WINDOW_FRAMES + MAX_LAG_FRAMES + SLACK_FRAMES, a power of two
_TINY = 1.0  # added before the log: silence is 0 dB, not -inf


def frame_energy(pcm: bytes) -> float:
    """Mean square of a PCM16 little-endian frame."""
    samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).astype(np.float32)
    return float(np.dot(samples, samples)) / max(1, len(samples))


class EchoPath:
    """The echo as learnt: ``lag`` frames late, ``gain`` times the bot's energy."""

    __slots__ = ("correlation", "floor", "gain", "lag")

    def __init__(self, lag: int, gain: float, floor: float, correlation: float) -> None:
        self.lag = lag
        self.gain = gain
        self.floor = floor
        self.correlation = correlation

    def __repr__(self) -> str:
        return (
            f"EchoPath(lag={self.lag}, gain={self.gain:.3g}, floor={self.floor:.3g}, "
            f"correlation={self.correlation:.2f})"
        )


def _window_max(values: npt.NDArray[np.float64], slack: int) -> npt.NDArray[np.float64]:
    padded = np.pad(values, slack)
    return sliding_window_view(padded, 2 * slack + 1).max(axis=1)  # type: ignore[no-any-return]


def estimate_path(
    bot: npt.NDArray[np.float64],
    caller: npt.NDArray[np.float64],
    min_bot_frames: int = MIN_BOT_FRAMES,
) -> EchoPath | None:
    """The echo path from aligned energy envelopes (``caller[i]`` read when ``bot[i]``
    was the last played), or None when the bot said too little (in fewer than
    ``min_bot_frames``) or nothing follows it."""
    n = len(bot)
    if n != len(caller) or n <= MAX_LAG_FRAMES + min_bot_frames:
        return None
    length = n - MAX_LAG_FRAMES
    speaking = _window_max(bot, SLACK_FRAMES)
    if int(np.count_nonzero(speaking[:length] > BOT_ACTIVE_ENERGY)) < min_bot_frames:
        return None
    x = np.log10(bot[:length] + _TINY)
    x = x - x.mean()
    ys = sliding_window_view(np.log10(caller + _TINY), length)[: MAX_LAG_FRAMES + 1]
    ys = ys - ys.mean(axis=1, keepdims=True)
    norms = np.sqrt((ys * ys).sum(axis=1) * float(x @ x))
    correlations = (ys @ x) / np.where(norms > 0, norms, np.inf)
    lag = int(np.argmax(correlations))
    correlation = float(correlations[lag])
    if correlation < MIN_CORRELATION:
        return None
    echoed = caller[lag : lag + length]
    active = speaking[:length] > BOT_ACTIVE_ENERGY
    # Echo to bot, frame by frame where the bot spoke: the median holds while the
    # caller talked over the bot in fewer than half of those frames.
    said = bot[:length] > BOT_ACTIVE_ENERGY
    gain = float(np.percentile(echoed[said] / bot[:length][said], GAIN_PERCENTILE))
    # The line's own noise: where no echo is due.
    quiet = echoed[~active]
    noise = float(np.percentile(quiet, FLOOR_PERCENTILE)) if len(quiet) else 0.0
    # The caller's voice is not much fainter than the echo's usual level: fainter sounds
    # where the path predicts no echo are the echo's own edges (a delay that moved).
    echo_level = float(np.median(echoed[said])) if np.any(said) else 0.0
    floor = max(MIN_FLOOR_ENERGY, FLOOR_FACTOR * noise, ECHO_LEVEL_SHARE * echo_level)
    return EchoPath(lag, gain, floor, correlation)


class DoubleTalk:
    """Feeds on the frames the bot played and the caller's; :meth:`caller_frame` is
    True while the caller's voice is clearly above the bot's echo.

    Until :meth:`start` it only keeps the last ``HISTORY_FRAMES`` of each side as they
    came (a list slot each), so the path can be learnt from the speech that made the
    line suspect, at once.
    """

    def __init__(self) -> None:
        self.active = False
        self.path: EchoPath | None = None
        self._bot = [0.0] * _RING  # bot energy by place (see the module's docstring)
        self._caller = [0.0] * _RING
        self._bot_raw: list[bytes] = [b""] * HISTORY_FRAMES  # before start
        self._caller_raw: list[bytes] = [b""] * HISTORY_FRAMES
        self._n = 0  # caller frames read
        self._top = -1  # the place of the last bot frame (or silence) laid down
        self._run = 0
        self._lags: deque[int] = deque(maxlen=RECENT_LAGS)
        self._lag_low = self._lag_high = 0
        self._since_estimate = 0
        self._bot_frames = 0  # bot frames played since the last estimate
        self.estimates = 0
        # The last run's first frame: (its energy, the echo expected, the floor), for logs.
        self.onset = (0.0, 0.0, 0.0)

    def start(self) -> None:
        """The line may echo: from now on frames are measured (those kept, too)."""
        if self.active:
            return
        self.active = True
        first = max(0, self._n - HISTORY_FRAMES + 1)
        for place in range(first, self._top + 1):
            self._bot[place & (_RING - 1)] = frame_energy(self._bot_raw[place % HISTORY_FRAMES])
            self._bot_frames += 1
        for place in range(first, self._n):
            self._caller[place & (_RING - 1)] = frame_energy(
                self._caller_raw[place % HISTORY_FRAMES]
            )
        self._bot_raw = self._caller_raw = []
        if self._bot_frames >= MIN_BOT_FRAMES:
            self._estimate()

    def bot_frame(self, pcm: bytes) -> None:
        """A frame the bot played (before the caller frame read next)."""
        merged = self._top + 1 > self._n + MAX_AHEAD_FRAMES  # the caller's side stalled
        place = self._top if merged else self._top + 1
        self._top = place
        if not self.active:
            self._bot_raw[place % HISTORY_FRAMES] = pcm
            return
        energy = frame_energy(pcm)
        slot = place & (_RING - 1)
        self._bot[slot] = max(self._bot[slot], energy) if merged else energy
        self._bot_frames += 1

    def caller_frame(self, pcm: bytes) -> bool:
        """A caller frame read from the line; True when it is the caller's voice over
        the echo (the ``RUN_FRAMES``-th loud frame in a row, or later in the run)."""
        n = self._n
        self._n = n + 1
        while self._top < n:  # no bot frame played for these places: silence
            self._top += 1
            if self.active:
                self._bot[self._top & (_RING - 1)] = 0.0
            else:
                self._bot_raw[self._top % HISTORY_FRAMES] = b""
        if not self.active:
            self._caller_raw[n % HISTORY_FRAMES] = pcm
            return False
        energy = frame_energy(pcm)
        self._caller[n & (_RING - 1)] = energy
        path = self.path
        over = False
        if path is not None:
            expected = self._expected(n, path)
            over = energy > MARGIN * expected + path.floor
            if over and not self._run:
                self.onset = (energy, expected, path.floor)
        self._run = self._run + 1 if over else 0
        if self._run == RUN_FRAMES and not self._run_holds(n):
            self._run = 0
        self._since_estimate += 1
        every = ESTIMATE_EVERY if path is None else ESTIMATE_EVERY * KNOWN_PATH_SLOWDOWN
        if self._since_estimate >= every and self._bot_frames >= MIN_BOT_FRAMES // 2:
            self._estimate()
        return self._run >= RUN_FRAMES

    def _expected(self, n: int, path: EchoPath) -> float:
        """The echo's energy caller frame ``n`` may carry, along the lags learnt."""
        return path.gain * self._loudest(n, self._lag_low, self._lag_high, SLACK_FRAMES)

    def _loudest(self, n: int, lag_low: int, lag_high: int, slack: int) -> float:
        """The loudest bot frame caller frame ``n`` may echo at these lags."""
        low = max(0, n - lag_high - slack)
        high = min(self._top, n - lag_low + slack)
        bot = self._bot
        return max((bot[i & (_RING - 1)] for i in range(low, high + 1)), default=0.0)

    def _run_holds(self, n: int) -> bool:
        """Whether the run ending at caller frame ``n`` stays above the echo along the
        lags learnt with ``VERIFY_SLACK_FRAMES`` more slack, and along the lag learnt
        afresh from the last ``VERIFY_FRAMES`` (the delay moved). A fresh path much
        louder than the one learnt is the caller's voice correlating with the bot's by
        chance, not the echo: it is ignored. Nothing here is adopted (the estimates of
        :meth:`_estimate`, over more frames, follow a delay that moved)."""
        path = self.path
        assert path is not None
        lags = [(self._lag_low, self._lag_high)]
        count = min(n + 1, VERIFY_FRAMES)
        start = n + 1 - count
        fresh = estimate_path(
            _window(self._bot, start, count),
            _window(self._caller, start, count),
            VERIFY_BOT_FRAMES,
        )
        self.estimates += 1
        if fresh is not None and fresh.gain <= VERIFY_GAIN_FACTOR * path.gain:
            lags.append((fresh.lag, fresh.lag))
        caller, slack = self._caller, SLACK_FRAMES + VERIFY_SLACK_FRAMES
        return all(
            caller[i & (_RING - 1)]
            > MARGIN * path.gain * self._loudest(i, low, high, slack) + path.floor
            for low, high in lags
            for i in range(n - RUN_FRAMES + 1, n + 1)
        )

    def _estimate(self) -> None:
        self._since_estimate = 0
        self._bot_frames = 0
        count = min(self._n, WINDOW_FRAMES)
        start = self._n - count
        path = estimate_path(_window(self._bot, start, count), _window(self._caller, start, count))
        self.estimates += 1
        if path is not None:
            self.adopt(path)

    def adopt(self, path: EchoPath) -> None:
        """From now on the echo is expected along ``path`` (learnt, or known)."""
        self.path = path
        self._lags.append(path.lag)
        self._lag_low, self._lag_high = min(self._lags), max(self._lags)


def _window(ring: list[float], start: int, count: int) -> npt.NDArray[np.float64]:
    """``count`` values of ``ring`` from place ``start`` on."""
    first = start & (_RING - 1)
    if first + count <= _RING:
        return np.array(ring[first : first + count])
    return np.array(ring[first:] + ring[: first + count - _RING])
