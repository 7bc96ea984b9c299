"""The barge-in state machine on its own, on the virtual clock."""

from __future__ import annotations

import pytest

from switchboard_dialer.media.barge_in import Verdict
from switchboard_dialer.media.barge_in_state import TRANSCRIPT_WAIT_SEC, BargeIn
from switchboard_testing.clock import VirtualClock


class RecordedPlayback:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def playback() -> RecordedPlayback:
    return RecordedPlayback()


@pytest.fixture
async def barge_in(clock: VirtualClock, playback: RecordedPlayback) -> BargeIn:
    return BargeIn("call-1", playback, clock)


async def test_speech_while_the_bot_is_quiet_holds_nothing(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.speech_started(None)

    assert barge_in.held_turn is None
    assert playback.calls == []
    assert barge_in.final_transcript("hello there") is None


async def test_speech_over_a_turn_holds_it_once_until_the_words_interrupt_it(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.speech_started("t1")
    barge_in.speech_started("t1")  # a second speech_started while held changes nothing

    assert (barge_in.held_turn, playback.calls, barge_in.barge_ins) == ("t1", ["pause"], 1)
    assert barge_in.final_transcript("wait, my address changed") == (Verdict.INTERRUPT, "t1")
    assert barge_in.held_turn is None
    assert playback.calls == ["pause"]  # the owner cancels the turn, then resumes


@pytest.mark.parametrize("words", ["mm-hmm", "okay yeah", "", "  "])
async def test_a_backchannel_or_no_words_resume_the_held_turn(
    barge_in: BargeIn, playback: RecordedPlayback, words: str
) -> None:
    barge_in.speech_started("t1")

    verdict, turn = barge_in.final_transcript(words) or (None, None)

    assert verdict in {Verdict.RESUME_BACKCHANNEL, Verdict.RESUME_FALSE} and turn == "t1"
    assert playback.calls == ["pause", "resume"]
    assert (barge_in.held_turn, barge_in.resumes) == (None, 1)


async def test_a_held_turn_resumes_when_no_transcript_comes_in_time(
    barge_in: BargeIn, playback: RecordedPlayback, clock: VirtualClock
) -> None:
    barge_in.speech_started("t1")
    barge_in.speech_ended()

    await clock.elapse(TRANSCRIPT_WAIT_SEC - 0.1)
    assert barge_in.held_turn == "t1"
    await clock.elapse(0.1)
    assert barge_in.held_turn is None
    assert playback.calls == ["pause", "resume"]
    await barge_in.close()


async def test_a_transcript_in_time_disarms_the_wait(
    barge_in: BargeIn, playback: RecordedPlayback, clock: VirtualClock
) -> None:
    barge_in.speech_started("t1")
    barge_in.speech_ended()
    await clock.elapse(1)
    barge_in.final_transcript("stop, that is wrong")

    await clock.elapse(TRANSCRIPT_WAIT_SEC)
    assert playback.calls == ["pause"]  # no late resume of the cancelled turn


async def test_a_reopened_listen_stream_keeps_the_turn_held_while_it_hears_the_caller_again(
    barge_in: BargeIn, playback: RecordedPlayback, clock: VirtualClock
) -> None:
    barge_in.listen_reopened()
    assert playback.calls == []

    barge_in.speech_started("t1")
    barge_in.listen_reopened()  # the caller's audio is replayed into the new stream
    await clock.elapse(TRANSCRIPT_WAIT_SEC / 2)
    barge_in.speech_started("t1")  # ... which announces the utterance again
    await clock.elapse(TRANSCRIPT_WAIT_SEC * 2)  # a long answer: no resume over it

    assert barge_in.held_turn == "t1" and playback.calls == ["pause"]
    assert barge_in.final_transcript("wait, my address changed") == (Verdict.INTERRUPT, "t1")
    await barge_in.close()


async def test_a_reopened_listen_stream_that_hears_nothing_resumes_the_held_turn(
    barge_in: BargeIn, playback: RecordedPlayback, clock: VirtualClock
) -> None:
    barge_in.speech_started("t1")
    barge_in.listen_reopened()

    await clock.elapse(TRANSCRIPT_WAIT_SEC)  # the replay held no utterance

    assert barge_in.held_turn is None
    assert playback.calls == ["pause", "resume"]
    await barge_in.close()
