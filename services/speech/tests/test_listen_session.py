"""The Listen session with fake providers: events, order, flags, bounds."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor, ThreadPoolExecutor

import pytest

from switchboard.config import Features
from switchboard.errors import InvalidArgument
from switchboard.speech import (
    ListenConfig,
    ListenResponse,
    SpeechEnded,
    SpeechStarted,
    Transcript,
)
from switchboard_speech.fakes import FakeSTT, FakeVad, silence_frame, speech_frame
from switchboard_speech.listen import ListenSession
from switchboard_speech.stt.base import Recognition
from switchboard_speech.stt.batch import ClipSpeechToText


class Harness:
    def __init__(self, features: Features | None = None) -> None:
        self.features = features or Features(vad_cutoff_timeout_ms=100)
        self.vad = FakeVad()
        self.stt = FakeSTT()
        self.events: list[ListenResponse] = []
        self.session = ListenSession(
            ListenConfig("call-1", 8000), self.vad, self.stt, lambda: self.features, self._emit
        )

    async def _emit(self, event: ListenResponse) -> None:
        self.events.append(event)

    async def feed(self, speech: bool, count: int) -> None:
        frame = speech_frame() if speech else silence_frame()
        for _ in range(count):
            await self.session.on_frame(frame)

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)


async def test_an_utterance_yields_started_ended_and_a_final_transcript_in_order() -> None:
    h = Harness()
    await h.feed(False, 10)
    await h.feed(True, 30)
    await h.feed(False, 25)
    await h.settle()
    assert h.events[0] == SpeechStarted(offset_ms=200)
    assert h.events[1] == SpeechEnded(offset_ms=800)
    final = h.events[2]
    assert isinstance(final, Transcript) and final.is_final
    assert (final.start_ms, final.end_ms) == (200, 800)
    # pre-roll (10 frames of 200 ms) + speech + the silence window
    assert final.text == "65 frames"
    assert h.stt.utterances[0].events[:1] == ["silence"]


async def test_offsets_follow_the_first_frame_timestamp() -> None:
    h = Harness()
    await h.session.on_frame(silence_frame(), timestamp_ms=5000)
    await h.feed(True, 10)
    assert h.events[0] == SpeechStarted(offset_ms=5020)


async def test_finals_leave_in_utterance_order_even_when_decoding_lags() -> None:
    h = Harness()
    h.stt.release.clear()
    for _ in range(2):
        await h.feed(True, 10)
        await h.feed(False, 25)
    await h.settle()
    assert [type(e) for e in h.events] == [SpeechStarted, SpeechEnded] * 2
    h.stt.release.set()
    await h.settle()
    finals = [e for e in h.events if isinstance(e, Transcript)]
    assert [f.start_ms for f in finals] == sorted(f.start_ms for f in finals)
    assert len(finals) == 2


async def test_vad_flags_apply_from_the_next_utterance() -> None:
    h = Harness(Features(vad_silence_timeout_ms=500, vad_threshold=0.5))
    await h.feed(True, 20)
    h.features = Features(vad_silence_timeout_ms=200, vad_threshold=0.9)
    await h.feed(False, 10)
    assert not any(isinstance(e, SpeechEnded) for e in h.events), "old window still applies"
    await h.feed(False, 15)
    assert any(isinstance(e, SpeechEnded) for e in h.events)
    assert set(h.vad.thresholds) == {0.5}
    h.events.clear()
    await h.feed(True, 20)
    await h.feed(False, 10)
    assert any(isinstance(e, SpeechEnded) for e in h.events), "new 200 ms window"
    assert h.vad.thresholds[-1] == 0.9


async def test_an_endless_silent_stream_keeps_only_the_pre_roll() -> None:
    h = Harness()
    await h.feed(False, 5000)
    assert h.session.buffered_frames <= 10
    assert h.events == []


@pytest.mark.parametrize(
    ("pcm", "message"),
    [(b"\x00" * 321, "odd length"), (b"\x00" * 640, "320 bytes"), (b"", "0 bytes")],
)
async def test_malformed_frames_are_refused_with_a_reason(pcm: bytes, message: str) -> None:
    h = Harness()
    with pytest.raises(InvalidArgument, match=message):
        await h.session.on_frame(pcm)


async def test_a_language_the_recogniser_lacks_is_ignored_with_a_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()
    h.session.set_lang("fr-FR")
    assert "language change ignored" in caplog.text
    await h.feed(True, 10)
    assert h.stt.utterances[0]._lang == "en-US"


async def test_closing_mid_utterance_discards_it() -> None:
    h = Harness()
    await h.feed(True, 10)
    await h.session.drain()
    assert h.stt.utterances[0].discarded


class RecordingClipSTT(ClipSpeechToText):
    """Decodes instantly; records how many frames each decode saw."""

    name = "recording"

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1)
        self.decoded_frames: list[int] = []

    @property
    def executor(self) -> Executor:
        return self._executor

    def recognize(self, pcm: bytes, sample_rate: int, lang: str) -> Recognition:
        self.decoded_frames.append(len(pcm) // 320)
        return Recognition("hello", 0.9, lang)


async def test_decoding_starts_when_the_caller_falls_silent_not_when_the_window_closes() -> None:
    stt = RecordingClipSTT()
    events: list[ListenResponse] = []

    async def emit(event: ListenResponse) -> None:
        events.append(event)

    session = ListenSession(ListenConfig("c", 8000), FakeVad(), stt, lambda: Features(), emit)
    for _ in range(30):
        await session.on_frame(speech_frame())
    for _ in range(10):
        await session.on_frame(silence_frame())
    await asyncio.sleep(0.05)  # let the worker thread run
    assert stt.decoded_frames == [33], "30 speech frames + 3 of silence (60 ms)"
    for _ in range(15):
        await session.on_frame(silence_frame())
    await session.drain()
    assert stt.decoded_frames == [33], "the final reused the speculative decode"
    assert isinstance(events[-1], Transcript) and events[-1].text == "hello"
