"""What the virtual phones' records say: playout lateness and turn latency at the phone.

Lateness: within one bot turn, frame *k* should arrive at ``anchor + k x 20 ms``; the
anchor is the earliest the turn's frames allow (the minimum of ``arrival_k - k x 20 ms``),
so a constant path delay cancels out and every frame's lateness is ≥ 0: how far behind a
perfect 20 ms clock the caller hears it. A dialer that falls behind and re-anchors, or a
gateway that holds frames back, shows up here. The dialer pauses playout on purpose
while the caller talks over the bot (until the barge-in rule decides), so a turn is
measured in runs split where the caller starts speaking: such a pause is not lateness.

Turn latency: the caller's last voiced frame sent → the first frame of the next bot turn
received, when that turn starts before the caller's next utterance (else the utterance
counts as unanswered). It includes the ``vad_silence_timeout_ms`` window (500 ms by
default) that ends the caller's turn.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from twilio_phone import CYCLE_SEC, FRAME_SEC, SPEECH_SEC, PhoneRecord


def lateness_ms(records: Iterable[PhoneRecord], start: float, end: float) -> list[float]:
    """Lateness of every bot frame that arrived in [start, end), in milliseconds."""
    out: list[float] = []
    for record in records:
        speaking = [s for s, _ in record.spoken]
        for turn in record.turns:
            if not turn or turn[-1] < start or turn[0] >= end:
                continue
            for run in _runs(turn, speaking):
                anchor = min(t - k * FRAME_SEC for k, t in enumerate(run))
                out.extend(
                    (t - k * FRAME_SEC - anchor) * 1000
                    for k, t in enumerate(run)
                    if start <= t < end
                )
    return out


def _runs(turn: list[float], speaking: list[float]) -> list[list[float]]:
    """``turn``'s frames split at each time the caller started speaking."""
    runs: dict[int, list[float]] = {}
    for t in turn:
        runs.setdefault(bisect.bisect(speaking, t), []).append(t)
    return list(runs.values())


def turn_latency_ms(
    records: Iterable[PhoneRecord], start: float, end: float
) -> tuple[list[float], int]:
    """Turn latencies of utterances that ended in [start, end), and how many went unanswered."""
    latencies: list[float] = []
    unanswered = 0
    limit = CYCLE_SEC - SPEECH_SEC
    for record in records:
        starts = [turn[0] for turn in record.turns if turn]
        for _, spoken_end in record.spoken:
            if not start <= spoken_end < end:
                continue
            reply = next((t for t in starts if t > spoken_end), None)
            if reply is None or reply - spoken_end > limit:
                unanswered += 1
            else:
                latencies.append((reply - spoken_end) * 1000)
    return latencies, unanswered


def send_lateness_ms(records: Iterable[PhoneRecord], start: float, end: float) -> list[float]:
    """How late the phones' own frames left in [start, end) (the load generator's health)."""
    return [late * 1000 for record in records for t, late in record.send_late if start <= t < end]
