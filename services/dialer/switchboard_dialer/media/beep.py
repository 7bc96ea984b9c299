"""``BeepDetector``: an answering machine's beep in the caller's frames.

A beep is one steady, narrowband tone (commonly 400-2000 Hz, a few hundred ms) that
ends before the machine starts recording. Each 20 ms frame is windowed and
transformed (one small real FFT: the Goertzel filters of every bin at once); a
frame is *tonal* when it is loud enough and nearly all its energy sits in the main
lobe of one peak inside the telephone band. Speech spreads its energy over several
harmonics and formants, silence and noise have no dominant peak. A run of tonal
frames on the same frequency, at least ``min_ms`` long, counts as a beep when it ends.

Cost: one FFT of 160 (8 kHz) or 320 (16 kHz) samples per frame, only while an
outbound call's answer is screened.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# Quieter frames (PCM16 RMS, about -44 dBFS) are never a beep.
MIN_RMS = 200.0
# Share of the frame's energy in the peak's main lobe (Hann: the peak bin and two
# either side) for the frame to count as one tone.
MIN_PURITY = 0.90
# Where beeps are: inside the telephone band, above mains hum and most voices' F0.
LOW_HZ = 300.0
HIGH_HZ = 3400.0
# A tone drifting by more than this many bins between frames is not one beep.
MAX_DRIFT_BINS = 1
# Shorter tonal runs are a sung vowel or a click, not a beep.
MIN_BEEP_MS = 200


class BeepDetector:
    """Feeds on caller frames; :meth:`feed` is True on the frame where a beep ended."""

    def __init__(self, sample_rate: int, min_ms: int = MIN_BEEP_MS) -> None:
        self._rate = sample_rate
        self._min_ms = min_ms
        self._windows: dict[int, npt.NDArray[np.float64]] = {}
        self._run_ms = 0.0
        self._run_bin = -1
        self.last_hz = 0.0  # the frequency of the last beep heard

    def feed(self, pcm: bytes) -> bool:
        """One frame; True when it ends a tone of at least ``min_ms``."""
        samples = len(pcm) // 2
        if samples < 32:
            return False
        peak = self._tonal_bin(np.frombuffer(pcm[: samples * 2], dtype="<i2"))
        frame_ms = samples * 1000 / self._rate
        if peak >= 0 and (self._run_bin < 0 or abs(peak - self._run_bin) <= MAX_DRIFT_BINS):
            self._run_ms += frame_ms
            self._run_bin = peak
            return False
        ended = self._run_ms >= self._min_ms
        if ended:
            self.last_hz = self._run_bin * self._rate / samples
        # A tonal frame on another frequency starts a new run.
        self._run_ms, self._run_bin = (frame_ms, peak) if peak >= 0 else (0.0, -1)
        return ended

    @property
    def in_tone_ms(self) -> float:
        """How long the current tone has lasted (0 outside one)."""
        return self._run_ms

    def _tonal_bin(self, samples: npt.NDArray[np.int16]) -> int:
        """The frame's tone bin, or -1 when the frame is not one tone."""
        x = samples.astype(np.float64)
        if float(np.sqrt(np.mean(x * x))) < MIN_RMS:
            return -1
        n = len(x)
        window = self._windows.get(n)
        if window is None:
            window = self._windows[n] = np.hanning(n)
        power = np.abs(np.fft.rfft(x * window)) ** 2
        total = float(power[1:].sum())
        if total <= 0.0:
            return -1
        low = max(1, int(LOW_HZ * n / self._rate))
        high = min(len(power) - 1, int(HIGH_HZ * n / self._rate) + 1)
        peak = low + int(np.argmax(power[low:high]))
        lobe = float(power[max(1, peak - 2) : peak + 3].sum())
        return peak if lobe / total >= MIN_PURITY else -1
