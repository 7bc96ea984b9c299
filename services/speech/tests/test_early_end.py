"""Ending an utterance early when what was heard is a complete answer (media time, fakes).

The recogniser here decodes at once (an inline executor), the worst case for an early
cut: the speculative text is ready the moment the caller pauses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import pytest

from switchboard.config import Features
from switchboard.domain import ClaimFieldType
from switchboard.media import ExpectedAnswer
from switchboard.speech import ListenConfig, ListenResponse, SpeechEnded, Transcript
from switchboard_speech.answer_complete import is_complete_answer
from switchboard_speech.endpointing import EARLY_SILENCE_MS, Endpointer, EndpointParams, Kind
from switchboard_speech.fakes import FakeVad, silence_frame, speech_frame
from switchboard_speech.listen import ListenSession
from switchboard_speech.stt.base import Recognition
from switchboard_speech.stt.batch import ClipSpeechToText

FRAME_BYTES = 320
EMAIL = ExpectedAnswer(ClaimFieldType.EMAIL, "US")
PHONE = ExpectedAnswer(ClaimFieldType.PHONE_NUMBER, "US")


class InlineExecutor(Executor):
    """Runs each job as it is submitted: a decode is done before the next frame comes."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class ScriptedSTT(ClipSpeechToText):
    """Hears ``said[i]`` once the clip holds the first ``i + 1`` spoken segments."""

    name = "scripted"

    def __init__(self, segments: list[tuple[str, int]]) -> None:
        self._segments = segments  # (text so far, frames of the clip when it is said)
        self._executor = InlineExecutor()

    @property
    def executor(self) -> Executor:
        return self._executor

    def recognize(self, pcm: bytes, sample_rate: int, lang: str) -> Recognition:
        frames = len(pcm) // FRAME_BYTES
        heard = [text for text, end in self._segments if end <= frames]
        return Recognition(heard[-1] if heard else "", 0.9, lang)


class Caller:
    """Says segments separated by pauses into one Listen session; records when it ended."""

    def __init__(self, parts: list[tuple[str, int, int]], expected: ExpectedAnswer | None):
        # parts: (text so far after this segment, speech frames, pause frames after it)
        segments, at = [], 0
        for text, speech, pause in parts:
            at += speech
            segments.append((text, at))
            at += pause
        self.parts = parts
        self.events: list[ListenResponse] = []
        self.session = ListenSession(
            ListenConfig("call-1", 8000), FakeVad(), ScriptedSTT(segments), Features, self._emit
        )
        if expected is not None:
            self.session.expect(expected)
        self.silence_before_end: list[int] = []

    async def _emit(self, event: ListenResponse) -> None:
        self.events.append(event)

    async def talk(self) -> None:
        for _text, speech, pause in self.parts:
            for _ in range(speech):
                await self.frame(speech_frame())
            for quiet in range(1, pause + 1):
                ended = sum(isinstance(e, SpeechEnded) for e in self.events)
                await self.frame(silence_frame())
                if sum(isinstance(e, SpeechEnded) for e in self.events) > ended:
                    self.silence_before_end.append(quiet * 20)
        await self.session.drain()

    async def frame(self, pcm: bytes) -> None:
        await self.session.on_frame(pcm)
        await asyncio.sleep(0)  # decode callbacks run between frames, as in a live stream

    @property
    def finals(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, Transcript) and e.is_final]


def test_the_endpointer_ends_early_only_after_the_early_silence() -> None:
    endpointer = Endpointer()
    params = EndpointParams(silence_ms=500, start_ms=100, speculate_ms=120)
    for _ in range(20):
        endpointer.step(True, endpointer.params_for(params))
    for _ in range(EARLY_SILENCE_MS // 20 - 1):
        endpointer.step(False, endpointer.params_for(params))
        assert endpointer.end_early() == []
    endpointer.step(False, endpointer.params_for(params))
    (ended,) = endpointer.end_early()
    assert (ended.kind, ended.offset_ms) == (Kind.ENDED, 400)  # at the end of speech
    assert not endpointer.in_utterance


async def test_a_complete_email_ends_the_turn_after_the_short_silence() -> None:
    caller = Caller([("john dot doe at example dot com", 60, 30)], EMAIL)
    await caller.talk()
    assert caller.silence_before_end == [EARLY_SILENCE_MS]
    assert caller.finals == ["john dot doe at example dot com"]
    assert caller.session.early_ends == 1


async def test_without_an_expectation_the_full_silence_window_applies() -> None:
    caller = Caller([("john dot doe at example dot com", 60, 30)], None)
    await caller.talk()
    assert caller.silence_before_end == [500]


@pytest.mark.parametrize(
    "expected",
    [ExpectedAnswer(ClaimFieldType.TEXT, "US"), ExpectedAnswer(None, "US")],
    ids=["free text", "cleared"],
)
async def test_free_text_and_a_cleared_expectation_wait_for_the_full_window(
    expected: ExpectedAnswer,
) -> None:
    caller = Caller([("john dot doe at example dot com", 60, 30)], EMAIL)
    caller.session.expect(expected)
    await caller.talk()
    assert caller.silence_before_end == [500]


async def test_a_number_read_in_groups_is_not_cut_at_its_pauses() -> None:
    # Pauses shorter than the 500 ms window: only an early end could split the turn.
    parts = [
        ("four one five", 30, 20),  # 400 ms pause after a group
        ("four one five, five five five", 30, 23),  # 460 ms
        ("four one five, five five five, oh one double oh", 40, 30),
    ]
    caller = Caller(parts, PHONE)
    await caller.talk()
    assert caller.silence_before_end == [EARLY_SILENCE_MS]  # one turn, ended early at its end
    assert caller.finals == ["four one five, five five five, oh one double oh"]


async def test_a_hesitation_after_a_value_keeps_the_caller_talking() -> None:
    parts = [("my email is, uh…", 40, 22), ("my email is, uh… jo at example dot com", 60, 30)]
    caller = Caller(parts, EMAIL)
    await caller.talk()
    assert caller.silence_before_end == [EARLY_SILENCE_MS]
    assert len(caller.finals) == 1


@pytest.mark.parametrize(
    ("text", "expected", "complete"),
    [
        ("john.doe@example.com", EMAIL, True),
        ("It's J-O-H-N dot D-O-E at example dot com.", EMAIL, True),
        ("j o h n at gmail dot com", EMAIL, True),
        ("john at example dot", EMAIL, False),
        ("john at example", EMAIL, False),
        ("J-O-H-N dot", EMAIL, False),
        ("john at example dot co", EMAIL, False),  # ".co.uk" may follow
        ("jane at example dot com", ExpectedAnswer(ClaimFieldType.EMAIL, "AU"), False),
        ("john at example dot com, uh", EMAIL, False),
        ("415-555-0100.", PHONE, True),
        ("four one five five five five oh one double oh", PHONE, True),
        ("four fifteen, five five five, oh one hundred", PHONE, True),
        ("plus four four two oh seven nine four six oh nine five eight", PHONE, True),
        ("020 7946 0958", ExpectedAnswer(ClaimFieldType.PHONE_NUMBER, "GB"), True),
        ("4 1 5, 5 5 5,", PHONE, False),
        ("four one five five five five oh one double", PHONE, False),
        ("my number is 415 555 01", PHONE, False),
        ("415 555 0100 and", PHONE, False),
        ("415 555 0100", ExpectedAnswer(ClaimFieldType.PHONE_NUMBER, ""), False),
        ("Yesterday at 2 p.m.", ExpectedAnswer(ClaimFieldType.DATETIME, "US"), True),
        ("March 3rd at 10 in the morning.", ExpectedAnswer(ClaimFieldType.DATETIME), True),
        ("last Monday at two thirty p.m.", ExpectedAnswer(ClaimFieldType.DATETIME), True),
        ("March 3rd", ExpectedAnswer(ClaimFieldType.DATETIME), False),
        ("March 3rd, 2020", ExpectedAnswer(ClaimFieldType.DATETIME), False),  # "…twenty six"
        ("yesterday at 2", ExpectedAnswer(ClaimFieldType.DATETIME), False),
        ("The roof was leaking.", ExpectedAnswer(ClaimFieldType.TEXT), False),
        ("415 555 0100", None, False),
    ],
)
def test_what_counts_as_a_complete_answer(
    text: str, expected: ExpectedAnswer | None, complete: bool
) -> None:
    assert is_complete_answer(text, expected) is complete
