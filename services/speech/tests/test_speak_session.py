"""Text splitting and the Speak session with a fake voice: frames, done, cancel, limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from switchboard.errors import InvalidArgument
from switchboard.speech import (
    SpeakConfig,
    SpeakResponse,
    SpeakSettings,
    SpeakText,
    SpeechAudio,
    SpeechTextDone,
)
from switchboard_speech.fakes import FakeTTS
from switchboard_speech.outbox import Outbox
from switchboard_speech.speak import SpeakSession, check_rate
from switchboard_speech.text import MAX_SENTENCE_CHARS, check_text, sentences
from switchboard_speech.tts.base import Voice


def test_text_is_cut_into_sentences_without_empty_pieces() -> None:
    assert sentences("Hello there.  How are you?\n\nFine!") == [
        "Hello there.",
        "How are you?",
        "Fine!",
    ]


def test_an_overlong_sentence_is_cut_at_clause_or_word_boundaries() -> None:
    pieces = sentences("word, " * 200)
    assert all(len(p) <= MAX_SENTENCE_CHARS for p in pieces)
    assert " ".join(pieces).split() == ("word, " * 200).split()


def test_the_first_sentence_of_a_turn_is_cut_at_its_first_clause_when_long() -> None:
    text = "Hello, this is Amelie from Contoso calling about the claim you opened last week."
    assert sentences(text, first_of_turn=True) == [
        "Hello,",
        "this is Amelie from Contoso calling about the claim you opened last week.",
    ]
    assert sentences(text)[0] == text


def test_a_hundred_thousand_character_text_is_refused_with_the_limit() -> None:
    with pytest.raises(InvalidArgument, match="at most 5000"):
        check_text("a" * 100_000)


@pytest.mark.parametrize("rate", [0.5, 1.3, -1.0])
def test_a_prosody_rate_outside_the_range_is_refused(rate: float) -> None:
    with pytest.raises(InvalidArgument, match="prosody_rate"):
        check_rate(rate)


def test_an_unset_prosody_rate_means_normal_speed() -> None:
    assert check_rate(0.0) == 1.0


class Harness:
    def __init__(self, tts: FakeTTS | None = None) -> None:
        self.tts = tts or FakeTTS()
        self.outbox: Outbox[SpeakResponse] = Outbox(10_000)
        self.session = SpeakSession(
            SpeakConfig("call-1", 8000, "", "en-US", 1.0), self.tts, self.outbox
        )

    async def drain(self) -> list[SpeakResponse]:
        self.session.close_input()
        await self.session.run()
        await self.outbox.close()
        events = []
        while (event := await self.outbox.get()) is not None:
            events.append(event)
        return events


async def test_a_text_becomes_20_ms_frames_then_done() -> None:
    h = Harness()
    h.session.add_text(SpeakText("t1", 0, "Hi. Bye."))
    events = await h.drain()
    frames = [e for e in events if isinstance(e, SpeechAudio)]
    assert len(frames) == len("Hi.") + len("Bye.")
    assert all(len(f.pcm) == 320 for f in frames)
    assert [f.frame.seq for f in frames] == list(range(1, len(frames) + 1))
    assert events[-1] == SpeechTextDone("t1", 0)


async def test_a_cancelled_turn_stops_at_the_next_frame_and_its_queued_texts_are_dropped() -> None:
    h = Harness()
    outbox: Outbox[SpeakResponse] = Outbox(1)
    h.session = SpeakSession(SpeakConfig("c", 8000, "", "", 1.0), h.tts, outbox)
    h.session.add_text(SpeakText("t1", 0, "A long first sentence."))
    h.session.add_text(SpeakText("t1", 1, "A second one."))
    h.session.add_text(SpeakText("t2", 0, "Ok."))
    runner = asyncio.create_task(h.session.run(), name="test-speak")
    first = await outbox.get()
    assert isinstance(first, SpeechAudio) and first.turn_id == "t1"
    h.session.cancel("t1")
    h.session.close_input()
    rest: list[SpeakResponse] = []
    while not runner.done() or len(outbox):
        event = await asyncio.wait_for(outbox.get(), 1)
        if event is not None:
            rest.append(event)
    t1_after = [e for e in rest if e.turn_id == "t1"]
    assert len(t1_after) <= 1, "at most the frame already queued"
    assert SpeechTextDone("t1", 0) not in rest and SpeechTextDone("t1", 1) not in rest
    assert rest[-1] == SpeechTextDone("t2", 0)
    assert [text for text, _ in h.tts.spoken] == ["A long first sentence.", "Ok."]


async def test_texts_of_a_cancelled_turn_arriving_late_are_dropped() -> None:
    h = Harness()
    h.session.cancel("t1")
    h.session.add_text(SpeakText("t1", 3, "Too late."))
    assert await h.drain() == []


async def test_settings_change_the_voice_rate_for_the_next_text() -> None:
    h = Harness()
    h.session.add_text(SpeakText("t1", 0, "One."))
    h.session.configure(SpeakSettings(prosody_rate=1.2))
    h.session.add_text(SpeakText("t2", 0, "Two."))
    await h.drain()
    assert [voice.rate for _, voice in h.tts.spoken] == [1.2, 1.2]


async def test_an_unknown_voice_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidArgument, match="the fake TTS has: fake"):
        SpeakSession(SpeakConfig("c", 8000, "nope", "en-US", 1.0), FakeTTS(), Outbox(1))


async def test_too_many_queued_texts_are_refused() -> None:
    h = Harness()
    with pytest.raises(InvalidArgument, match="texts queued"):
        for i in range(1000):
            h.session.add_text(SpeakText("t", i, "x"))


class BrokenTTS(FakeTTS):
    async def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        if "boom" in text:
            raise RuntimeError("phonemizer crashed")
        async for chunk in super().synthesize(text, voice, sample_rate):
            yield chunk


async def test_a_text_the_voice_cannot_render_is_skipped_and_the_stream_goes_on() -> None:
    h = Harness(BrokenTTS())
    h.session.add_text(SpeakText("t1", 0, "boom"))
    h.session.add_text(SpeakText("t2", 0, "Ok."))
    events = await h.drain()
    assert events[0] == SpeechTextDone("t1", 0)
    assert events[-1] == SpeechTextDone("t2", 0)


SILENCE = b"\x00\x00" * 160  # 20 ms at 8 kHz
VOICED = b"\x00\x10" * 160


class QuietStartTTS(FakeTTS):
    """Each sentence: ``lead`` silent frames, then two voiced ones."""

    def __init__(self, lead: int) -> None:
        super().__init__()
        self.lead = lead

    async def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        self.spoken.append((text, voice))
        yield SILENCE * self.lead + VOICED * 2


def audio_of(events: list[SpeakResponse], index: int) -> bytes:
    return b"".join(e.pcm for e in events if isinstance(e, SpeechAudio) and e.index == index)


async def test_a_turn_starts_at_its_first_audible_frame_later_sentences_keep_their_pauses() -> None:
    h = Harness(QuietStartTTS(lead=2))
    h.session.add_text(SpeakText("t1", 0, "Got it."))
    h.session.add_text(SpeakText("t1", 1, "Next."))
    events = await h.drain()
    assert audio_of(events, 0) == VOICED * 2  # the voice's leading 40 ms would delay the answer
    assert audio_of(events, 1) == SILENCE * 2 + VOICED * 2


async def test_a_long_leading_silence_is_meant_and_kept() -> None:
    h = Harness(QuietStartTTS(lead=12))
    h.session.add_text(SpeakText("t1", 0, "Hmm."))
    events = await h.drain()
    assert audio_of(events, 0) == SILENCE * 12 + VOICED * 2
