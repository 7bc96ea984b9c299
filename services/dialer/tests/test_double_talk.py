"""The audio-level double-talk check (``media/double_talk``) on synthetic speech:
syllable-like bursts of noise, echoed 200 ms late and 10 dB down, delivered in
the 60 ms bursts of a carrier's bridge."""

from __future__ import annotations

import time

import numpy as np
import pytest

from switchboard_dialer.media.double_talk import DoubleTalk, estimate_path, frame_energy

SAMPLES = 160  # 20 ms at 8 kHz
ECHO_FRAMES = 10  # 200 ms
ECHO_GAIN = 10 ** (-10 / 20)
BURST = 3  # frames the line delivers at a time


def speech(frames: int, seed: int, level: float = 3000.0, softest: float = 0.3) -> list[bytes]:
    """Noise shaped like speech: syllables of 80-300 ms (``softest`` to 1 of ``level``),
    short pauses between."""
    rng = np.random.default_rng(seed)
    envelope = np.zeros(frames)
    i = 0
    while i < frames:
        length = int(rng.integers(4, 15))
        envelope[i : i + length] = rng.uniform(softest, 1.0)
        i += length + int(rng.integers(1, 8))
    out = []
    for amplitude in envelope:
        samples = rng.normal(0.0, level * amplitude, SAMPLES)
        out.append(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    return out


def add(a: bytes, b: bytes, gain: float = 1.0) -> bytes:
    mixed = np.frombuffer(a, "<i2").astype(np.float64) + gain * np.frombuffer(b, "<i2")
    return np.clip(mixed, -32768, 32767).astype("<i2").tobytes()


SILENCE = b"\x00" * (SAMPLES * 2)


def sentences(frames: int, seed: int) -> list[bytes]:
    """Sentences of 1-3 s of ``speech``, 400 ms of silence between them."""
    rng = np.random.default_rng(seed)
    out: list[bytes] = []
    while len(out) < frames:
        out += speech(int(rng.integers(50, 150)), seed=int(rng.integers(1 << 30))) + [SILENCE] * 20
    return out[:frames]


class EchoingLine:
    """A speakerphone: what the bot plays comes back ``ECHO_FRAMES`` later, with a
    little line noise, in bursts of ``BURST`` frames."""

    def __init__(self, detector: DoubleTalk, seed: int = 7, drift: int = 0) -> None:
        self.detector = detector
        self.drift = drift  # the delay wanders up to this many frames longer
        self.jump = 0  # frames the delay grew at once (a stall on a loaded machine)
        self.played: list[bytes] = []
        self.read = 0
        self.noise = speech(20000, seed + 1, level=30.0)
        self.flagged: list[int] = []

    def run(self, bot: list[bytes], caller: list[bytes] | None = None) -> None:
        for start in range(0, len(bot), BURST):
            for pcm in bot[start : start + BURST]:
                self.played.append(pcm)
                self.detector.bot_frame(pcm)
            for offset in range(len(bot[start : start + BURST])):
                self._read(caller[start + offset] if caller else SILENCE)

    def _read(self, own: bytes) -> None:
        k = self.read
        # A jitter buffer: the delay grows by a frame every 2 s, up to ``drift``, and back.
        lag = ECHO_FRAMES + (abs((k // 100) % (2 * self.drift) - self.drift) if self.drift else 0)
        lag += self.jump
        echo = self.played[k - lag] if k >= lag else SILENCE
        pcm = add(add(own, self.noise[k % len(self.noise)]), echo, ECHO_GAIN)
        if self.detector.caller_frame(pcm):
            self.flagged.append(k)
        self.read += 1


def test_frame_energy_is_the_mean_square() -> None:
    assert frame_energy(np.full(160, 100, "<i2").tobytes()) == pytest.approx(10000.0)
    assert frame_energy(SILENCE) == 0.0


def test_the_echo_path_is_learnt_from_the_bots_speech() -> None:
    detector = DoubleTalk()
    detector.start()
    EchoingLine(detector).run(speech(300, seed=1))
    path = detector.path
    assert path is not None
    assert abs(path.lag - ECHO_FRAMES) <= 1
    # The gain errs loud (a high percentile against the loudest nearby frame).
    assert 0.9 * ECHO_GAIN**2 <= path.gain <= 4 * ECHO_GAIN**2


@pytest.mark.parametrize("drift", [0, 8])
def test_pure_echo_is_never_taken_for_the_caller(drift: int) -> None:
    detector = DoubleTalk()
    detector.start()
    line = EchoingLine(detector, drift=drift)
    line.run(speech(3000, seed=2))  # a minute of the bot talking, echoed
    assert detector.path is not None
    assert line.flagged == []


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_caller_talking_over_the_echo_is_flagged_within_a_few_frames(seed: int) -> None:
    detector = DoubleTalk()
    detector.start()
    line = EchoingLine(detector, seed=seed)
    line.run(speech(400, seed=seed))
    assert detector.path is not None and line.flagged == []
    onset = line.read
    # The caller, as loud as the bot on average (the echo is 10 dB down), his first
    # syllable among the louder ones: a soft one would be only as loud as the echo.
    caller = [SILENCE] * 2 + speech(100, seed=seed + 100, softest=0.7)
    line.run(speech(len(caller), seed=seed + 200), caller)
    assert line.flagged, "the caller was never heard over the echo"
    assert line.flagged[0] - (onset + 2) <= 4  # within four frames of the voice
    # The caller's voice, correlating with the bot's by chance, is not taken for the echo.
    assert detector.path is not None and detector.path.gain <= 4 * ECHO_GAIN**2


def test_without_a_learnt_path_nothing_is_flagged() -> None:
    detector = DoubleTalk()
    detector.start()
    line = EchoingLine(detector)
    line.run([SILENCE] * 200, speech(200, seed=9))  # the caller alone: no echo to learn
    assert detector.path is None
    assert line.flagged == []


def test_before_the_line_is_known_to_echo_frames_cost_nothing() -> None:
    detector = DoubleTalk()
    line = EchoingLine(detector)
    line.run(speech(300, seed=1))
    assert (detector.path, detector.estimates, line.flagged) == (None, 0, [])


def test_an_estimate_needs_the_bot_to_have_spoken() -> None:
    quiet = np.zeros(250)
    assert estimate_path(quiet, np.full(250, 1e6)) is None


def test_per_frame_cost_is_small() -> None:
    detector = DoubleTalk()
    detector.start()
    line = EchoingLine(detector)
    line.run(speech(500, seed=1))
    bot, caller = speech(1000, seed=11), speech(1000, seed=12)
    started = time.process_time()  # CPU time: the machine may be loaded
    for b, c in zip(bot, caller, strict=True):
        detector.bot_frame(b)
        detector.caller_frame(c)
    per_frame_us = (time.process_time() - started) / len(bot) * 1e6
    print(f"double talk: {per_frame_us:.1f} us per frame pair")  # noqa: T201 - the figure, -s
    # Generous, for a loaded CI machine: a 20 ms frame is 20000 us.
    assert per_frame_us < 500


def test_the_speech_before_start_is_learnt_from_at_once() -> None:
    detector = DoubleTalk()
    line = EchoingLine(detector)
    line.run(speech(150, seed=1))  # the greeting and its echo, before any suspicion
    assert detector.path is None
    detector.start()  # the first pause for speech over the bot
    path = detector.path
    assert path is not None and abs(path.lag - ECHO_FRAMES) <= 1


@pytest.mark.parametrize("seed", [2, 4])
@pytest.mark.parametrize("jump", [-8, 10, 16])
def test_pure_echo_whose_delay_jumped_is_not_taken_for_the_caller(jump: int, seed: int) -> None:
    # Seen in the cluster test on a loaded machine: the path learnt 10-12 frames late,
    # then 17 or 20 (the sides' frames slipped); the ends of the echo's sentences no
    # longer lay where they were predicted.
    detector = DoubleTalk()
    detector.start()
    line = EchoingLine(detector, seed=seed)
    line.run(speech(400, seed=seed))
    assert detector.path is not None and abs(detector.path.lag - ECHO_FRAMES) <= 1
    line.jump = jump
    line.run(sentences(1500, seed=seed + 10))
    assert line.flagged == []
    assert detector.path is not None and abs(detector.path.lag - ECHO_FRAMES - jump) <= 1
    # A caller talking over it is still heard: within 400 ms (as soon as without the
    # check; where the caller starts among the bot's syllables sets the delay).
    onset = line.read
    caller = [SILENCE] * 2 + speech(100, seed=seed + 100, softest=0.7)
    line.run(speech(len(caller), seed=seed + 200), caller)
    assert line.flagged and line.flagged[0] - (onset + 2) <= 20


@pytest.mark.parametrize("seed", [3, 5])
def test_the_first_words_after_the_echos_delay_shrank_are_not_taken_for_the_caller(
    seed: int,
) -> None:
    # The carrier's queue cleared in a pause: the next sentence's echo comes back
    # sooner than learnt, before there is enough of it to learn the delay again.
    detector = DoubleTalk()
    detector.start()
    line = EchoingLine(detector, seed=seed)
    line.run(speech(400, seed=seed))
    line.run([SILENCE] * 30)
    line.jump = -8
    line.run(speech(60, seed=seed + 5) + [SILENCE] * 25 + speech(80, seed=seed + 6))
    assert line.flagged == []
