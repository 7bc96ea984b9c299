"""Speculative decoding: start when the caller pauses, drop when they go on."""

from __future__ import annotations

import threading
from concurrent.futures import Executor, ThreadPoolExecutor

from switchboard_speech.stt.base import Recognition
from switchboard_speech.stt.batch import ClipSpeechToText, SpeculativeUtterance


class GatedClipSTT(ClipSpeechToText):
    """Decodes only when the test opens the gate; records the clip lengths it saw."""

    name = "gated"

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1)
        self.gate = threading.Event()
        self.seen: list[int] = []

    @property
    def executor(self) -> Executor:
        return self._executor

    def recognize(self, pcm: bytes, sample_rate: int, lang: str) -> Recognition:
        self.gate.wait(5)
        self.seen.append(len(pcm))
        return Recognition(f"{len(pcm)} bytes", 1.0, lang)


async def test_the_final_reuses_the_decode_started_at_the_pause() -> None:
    stt = GatedClipSTT()
    utterance = SpeculativeUtterance(stt, 8000, "en-US")
    utterance.push(b"\x01" * 320)
    utterance.silence_started()
    utterance.push(b"\x00" * 320)  # trailing silence does not invalidate it
    stt.gate.set()
    result = await utterance.finish()
    assert result.text == "320 bytes"
    assert utterance.decodes_started == 1


async def test_resuming_speech_drops_the_speculative_result() -> None:
    stt = GatedClipSTT()
    utterance = SpeculativeUtterance(stt, 8000, "en-US")
    utterance.push(b"\x01" * 320)
    utterance.silence_started()
    utterance.speech_resumed()
    utterance.push(b"\x01" * 320)
    stt.gate.set()
    result = await utterance.finish()
    assert result.text == "640 bytes"


async def test_pauses_never_pile_up_decodes() -> None:
    stt = GatedClipSTT()
    utterance = SpeculativeUtterance(stt, 8000, "en-US")
    for _ in range(10):
        utterance.push(b"\x01" * 320)
        utterance.silence_started()
        utterance.speech_resumed()
        assert len(utterance._inflight) <= 2
    stt.gate.set()
    result = await utterance.finish()
    assert result.text == "3200 bytes"
    # The first (already running) stale decode and the final one ran; the queued
    # stale ones were cancelled before they started.
    assert len(stt.seen) == 2


async def test_a_fresh_speculation_does_not_wait_behind_a_stale_decode() -> None:
    stt = GatedClipSTT()
    stt._executor = ThreadPoolExecutor(max_workers=2)
    utterance = SpeculativeUtterance(stt, 8000, "en-US")
    utterance.push(b"\x01" * 320)
    utterance.silence_started()
    utterance.speech_resumed()
    utterance.push(b"\x01" * 320)
    utterance.silence_started()
    assert utterance.decodes_started == 2
    stt.gate.set()
    assert (await utterance.finish()).text == "640 bytes"
