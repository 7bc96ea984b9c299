"""Echo: the bot's own words heard back on the caller's line do not interrupt it."""

from __future__ import annotations

import pytest

from switchboard_dialer.media.barge_in import Verdict, judge
from switchboard_dialer.media.barge_in_state import BargeIn
from switchboard_dialer.media.echo import (
    ECHO_TAIL_SEC,
    ECHO_WINDOW_SEC,
    PlayedText,
    caller_part,
    is_echo,
    played_part,
    words_of,
)
from switchboard_dialer.media.voice_turns import SpokenSentence
from switchboard_testing.clock import VirtualClock

ASKED = "Thanks. What is the registration number of the car that was damaged?"


@pytest.mark.parametrize(
    "heard",
    [
        "what is the registration number of the car",  # the sentence, cut at both ends
        "Thanks, what is the registration number?",
        "the car that was damaged",
        "what is the registration numbers of the car that was damage",  # misheard words
        "what is uh the registration number of a car",  # a word or two wrong or added
        "car that was damaged car that was damaged car that",  # a recogniser's repeats
        "damaged",  # the bot stopped a frame after the onset: the echo is its last word
        "Damaged? Damage.",
    ],
)
def test_the_bots_own_words_heard_back_are_echo(heard: str) -> None:
    assert is_echo(heard, ASKED)


@pytest.mark.parametrize(
    "heard",
    [
        "I have a question about my policy",
        "it's seven ABC one two three",
        "the red car",  # a short answer reusing the question's words is an answer
        "thanks",  # one of the bot's words, but not one it just said
        "no",
        "wait the car is not damaged at all, my neighbour's is",  # words of it, not a run
        "number of the car? I don't know it, my wife has the papers",  # echo then a turn
        "",
    ],
)
def test_a_callers_own_words_are_not_echo(heard: str) -> None:
    assert not is_echo(heard, ASKED)


def test_words_match_in_order_and_loosely() -> None:
    assert words_of("Don't, OK?") == ["don't", "ok"]
    assert not is_echo("damaged was that car the", ASKED)  # order matters
    assert is_echo("registrasion number of the car", ASKED)  # a mishearing
    assert not is_echo("cat", "the car")  # short words must match closely


@pytest.mark.parametrize(
    ("heard", "callers"),
    [
        ("number of the car? I don't know it, my wife has", "I don't know it, my wife has"),
        ("car that was damaged. Seven ABC one two three", "Seven ABC one two three"),
        ("damaged damaged It's 7ABC123.", "It's 7ABC123."),
        ("It's 7ABC123.", "It's 7ABC123."),  # no echo: every word is the caller's
        ("the car that was damaged", ""),
    ],
)
def test_the_callers_words_after_the_echo_are_kept(heard: str, callers: str) -> None:
    assert caller_part(heard, ASKED) == callers


def test_the_barge_in_rule_resumes_for_echo_only_given_what_was_played() -> None:
    assert judge("what is the registration number", ASKED) is Verdict.RESUME_ECHO
    assert judge("what is the registration number") is Verdict.INTERRUPT
    assert judge("okay", ASKED) is Verdict.RESUME_BACKCHANNEL
    assert judge("my car is a blue ford", ASKED) is Verdict.INTERRUPT


def done(text: str) -> SpokenSentence:
    return SpokenSentence(text, received=10, played=10, done=True)


def test_of_a_sentence_being_played_only_the_words_said_so_far_can_echo() -> None:
    sentence = SpokenSentence("one two three four five six seven eight", received=40)
    assert played_part(sentence) == "one"  # nothing played yet: the first word may be
    sentence.played = 10
    assert played_part(sentence) == "one two three"  # two words said, the third begun
    sentence.played = 40
    assert played_part(sentence) == sentence.text


def test_played_text_keeps_what_was_played_lately_and_whether_the_bot_is_audible() -> None:
    played = PlayedText()
    assert not played.bot_audible(0.0) and played.recent(0.0) == ""
    played.sentence_started(done("First one."), 0.0)
    played.sentence_started(done("Second one."), 2.0)  # ends the first
    assert played.recent(2.0 + ECHO_WINDOW_SEC + 1) == "Second one."  # still playing
    played.stopped(5.0)
    assert played.bot_audible(5.0 + ECHO_TAIL_SEC)
    assert not played.bot_audible(5.0 + ECHO_TAIL_SEC + 0.1)
    assert played.recent(5.0 + ECHO_WINDOW_SEC) == "Second one."
    assert played.recent(5.0 + ECHO_WINDOW_SEC + 0.1) == ""
    played.resumed()  # a held sentence plays on
    assert played.bot_audible(100.0) and played.recent(100.0) == "Second one."


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
def barge_in(clock: VirtualClock, playback: RecordedPlayback) -> BargeIn:
    machine = BargeIn("call-1", playback, clock)
    machine.played.sentence_started(done(ASKED), clock.monotonic())
    return machine


async def test_echo_resumes_the_held_turn_and_marks_the_line_echoing(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.speech_started("t1")
    assert barge_in.final_transcript("what is the registration number") == (
        Verdict.RESUME_ECHO,
        "t1",
    )
    assert playback.calls == ["pause", "resume"]
    assert (barge_in.echoing_line, barge_in.echoes, barge_in.held_turn) == (True, 1, None)


async def test_on_an_echoing_line_echo_never_pauses_the_bot_again(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.echoing_line = True
    barge_in.speech_started("t1")
    barge_in.partial_transcript("the car that")
    assert playback.calls == []  # no stutter: speech alone does not pause
    assert barge_in.final_transcript("the car that was damaged") == (Verdict.RESUME_ECHO, "t1")
    assert playback.calls == []


async def test_on_an_echoing_line_a_callers_words_still_stop_and_interrupt_the_bot(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.echoing_line = True
    barge_in.speech_started("t1")
    barge_in.partial_transcript("")  # nothing recognised yet
    barge_in.partial_transcript("hold on")
    assert (playback.calls, barge_in.held_turn) == (["pause"], "t1")
    assert barge_in.final_transcript("hold on I need to find it") == (Verdict.INTERRUPT, "t1")


async def test_on_an_echoing_line_a_final_turn_without_partials_interrupts(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.echoing_line = True
    barge_in.speech_started("t1")
    assert barge_in.final_transcript("seven ABC one two three") == (Verdict.INTERRUPT, "t1")
    assert playback.calls == ["pause"]  # stopped now; the owner cancels the turn


async def test_echo_of_the_last_words_after_the_bot_stopped_is_dropped(
    barge_in: BargeIn, clock: VirtualClock, playback: RecordedPlayback
) -> None:
    barge_in.played.stopped(clock.monotonic())
    await clock.elapse(0.3)
    barge_in.speech_started(None)  # the echo's tail, after the turn ended
    assert barge_in.final_transcript("the car that was damaged") == (Verdict.RESUME_ECHO, None)
    assert playback.calls == []


async def test_the_callers_answer_after_the_bot_went_quiet_is_never_echo(
    barge_in: BargeIn, clock: VirtualClock
) -> None:
    barge_in.played.stopped(clock.monotonic())
    await clock.elapse(ECHO_TAIL_SEC + 0.5)
    barge_in.speech_started(None)
    # Reading the question back is an answer once the bot has been quiet a while.
    assert barge_in.final_transcript("the registration number of the car") is None


async def test_on_an_echoing_line_speech_begun_over_a_turn_that_then_ended_interrupts_nothing(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.echoing_line = True
    barge_in.speech_started("t1")  # the echo of its last words ...
    barge_in.turn_played("t1")
    # ... run together with the caller's reply: a caller turn, not an interruption.
    assert barge_in.final_transcript("car that was damaged. It's 7ABC123") is None
    assert barge_in.caller_said == "It's 7ABC123"
    assert playback.calls == []


# The audio-level check (media/double_talk): the caller's voice above the echo.


async def test_on_an_echoing_line_the_callers_voice_over_the_echo_stops_the_bot_before_words(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.echoing_line = True
    barge_in.speech_started("t1")  # the echo
    assert playback.calls == []
    barge_in.caller_over_echo("t1")  # the caller's voice, a frame or two later
    assert (playback.calls, barge_in.held_turn) == (["pause"], "t1")
    barge_in.caller_over_echo("t1")  # every later loud frame changes nothing
    barge_in.speech_ended()
    # The utterance began with the echo; the caller's words after it interrupt.
    assert barge_in.final_transcript("the registration number hold on I need to find it") == (
        Verdict.INTERRUPT,
        "t1",
    )
    assert barge_in.caller_said == "hold on I need to find it"
    assert playback.calls == ["pause"]


async def test_a_false_alarm_of_the_audio_check_only_pauses_the_bot(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.echoing_line = True
    barge_in.speech_started("t1")
    barge_in.caller_over_echo("t1")
    assert barge_in.final_transcript("the registration number") == (Verdict.RESUME_ECHO, "t1")
    assert playback.calls == ["pause", "resume"]


async def test_the_callers_voice_heard_just_before_speech_started_holds_the_turn_at_once(
    barge_in: BargeIn, clock: VirtualClock, playback: RecordedPlayback
) -> None:
    barge_in.echoing_line = True
    barge_in.caller_over_echo("t1")  # the audio check is quicker than the recogniser
    await clock.elapse(0.25)
    barge_in.speech_started("t1")
    assert (playback.calls, barge_in.held_turn) == (["pause"], "t1")


async def test_the_callers_voice_heard_long_before_does_not_hold_a_later_turn(
    barge_in: BargeIn, clock: VirtualClock, playback: RecordedPlayback
) -> None:
    barge_in.echoing_line = True
    barge_in.caller_over_echo("t0")
    await clock.elapse(2.0)
    barge_in.speech_started("t1")  # the echo of the next turn
    assert (playback.calls, barge_in.held_turn) == ([], None)


async def test_the_callers_voice_over_a_turn_that_began_inside_an_utterance_holds_it(
    barge_in: BargeIn, playback: RecordedPlayback
) -> None:
    barge_in.echoing_line = True
    barge_in.speech_started(None)  # the echo of the last turn, still going on
    barge_in.caller_over_echo("t2")  # the next turn plays; the caller talks over it
    assert (playback.calls, barge_in.held_turn) == (["pause"], "t2")
    barge_in.speech_ended()
    assert barge_in.final_transcript("the registration number wait a second") == (
        Verdict.INTERRUPT,
        "t2",
    )


# Judged in media time: the words the bot played while the utterance was heard.

GREETING = "Hello hello, this is Sam from Acme Insurance calling about your claim."
QUESTION = "Can you tell me what happened to the car?"


def play(
    machine: BargeIn, clock: VirtualClock, text: str, start_ms: int, frames: int
) -> SpokenSentence:
    """``text`` played in ``frames`` frames from ``start_ms`` of media time, stamped as
    the pipeline stamps them (the caller's audio read when each frame went out)."""
    sentence = SpokenSentence(text, received=frames, done=True)
    machine.played.sentence_started(sentence, clock.monotonic())
    for k in range(frames):
        machine.played.frame_played(start_ms + 20 * k)
        sentence.played = k + 1
    machine.played.stopped(clock.monotonic())
    return sentence


@pytest.fixture
def quiet_barge_in(clock: VirtualClock, playback: RecordedPlayback) -> BargeIn:
    return BargeIn("call-1", playback, clock)


def test_of_the_sentences_played_only_the_words_played_near_an_utterance_can_echo() -> None:
    clock = VirtualClock()
    machine = BargeIn("call-1", RecordedPlayback(), clock)
    play(machine, clock, GREETING, 0, 200)  # 12 words over 4 s
    play(machine, clock, QUESTION, 4000, 100)  # 9 words over 2 s
    played = machine.played
    # From 1.5 s before the start: the greeting's first words, and a word to spare.
    assert played.during(200, 700) == "Hello hello, this is"
    assert played.during(5200, 5900).endswith("to the car?")
    assert "Hello" not in played.during(5200, 5900)
    assert played.during(8000, 9000) == ""  # the bot had been quiet 2 s


async def test_an_echo_of_the_greeting_transcribed_late_is_still_echo(
    quiet_barge_in: BargeIn, clock: VirtualClock, playback: RecordedPlayback
) -> None:
    # The greeting's first words came back 200 ms late and were announced as speech
    # (the bot held); the recogniser took long, and the bot's question played on meanwhile.
    play(quiet_barge_in, clock, GREETING, 0, 200)
    quiet_barge_in.speech_started("t2")
    play(quiet_barge_in, clock, QUESTION, 4000, 100)
    late = quiet_barge_in.final_transcript("Hello, hello.", span=(200, 900))
    assert late == (Verdict.RESUME_ECHO, "t2")
    assert playback.calls == ["pause", "resume"] and quiet_barge_in.echoing_line
    # The last words played are the question's: by them alone the echo was the caller's.
    assert judge("Hello, hello.", quiet_barge_in.played.recent(clock.monotonic())) is (
        Verdict.INTERRUPT
    )


async def test_a_callers_words_that_share_a_word_with_the_bots_earlier_ones_are_heard(
    quiet_barge_in: BargeIn, clock: VirtualClock, playback: RecordedPlayback
) -> None:
    play(quiet_barge_in, clock, GREETING, 0, 200)
    # The caller talks over the greeting's end, saying a word of its start.
    quiet_barge_in.speech_started("t1")
    assert quiet_barge_in.final_transcript("Hello? Who is this?", span=(3000, 4200)) == (
        Verdict.INTERRUPT,
        "t1",
    )
    assert quiet_barge_in.caller_said == "Hello? Who is this?"
    # An answer after the bot went quiet is compared with nothing the bot said.
    play(quiet_barge_in, clock, QUESTION, 4200, 100)
    quiet_barge_in.speech_started(None)
    answer = "The car hit a wall."
    assert quiet_barge_in.final_transcript(answer, span=(7800, 9000)) is None
    assert quiet_barge_in.caller_said == answer
    assert playback.calls == ["pause"]


async def test_a_callers_answer_over_the_question_loses_only_the_echo_in_front_of_it(
    quiet_barge_in: BargeIn, clock: VirtualClock
) -> None:
    play(quiet_barge_in, clock, QUESTION, 0, 100)
    quiet_barge_in.speech_started(None)  # the question's echo, run into the answer
    said = "what happened to the car? A truck hit it in the car park."
    assert quiet_barge_in.final_transcript(said, span=(1000, 4000)) is None
    assert quiet_barge_in.caller_said == "A truck hit it in the car park."


async def test_speech_right_after_a_wordless_pause_waits_for_its_words(
    barge_in: BargeIn, clock: VirtualClock, playback: RecordedPlayback
) -> None:
    # Seen in the cluster test: the recogniser made nothing of the greeting's first
    # echo; its next words paused the bot a second time, a stutter.
    barge_in.speech_started("t1")
    assert barge_in.final_transcript("") == (Verdict.RESUME_FALSE, "t1")
    await clock.elapse(0.3)
    barge_in.speech_started("t1")
    assert playback.calls == ["pause", "resume"]  # not paused again
    assert barge_in.final_transcript("what is the registration number") == (
        Verdict.RESUME_ECHO,
        "t1",
    )
    assert playback.calls == ["pause", "resume"] and barge_in.echoing_line


async def test_a_caller_after_a_wordless_pause_still_interrupts_at_his_words(
    barge_in: BargeIn, clock: VirtualClock, playback: RecordedPlayback
) -> None:
    barge_in.speech_started("t1")  # a cough
    barge_in.final_transcript("")
    await clock.elapse(0.3)
    barge_in.speech_started("t1")
    assert barge_in.final_transcript("sorry, I need to stop you") == (Verdict.INTERRUPT, "t1")
    assert playback.calls == ["pause", "resume", "pause"]
    # Later speech, or speech over another turn, pauses the bot at once again.
    barge_in.speech_started("t1")
    barge_in.final_transcript("")
    await clock.elapse(1.5)
    barge_in.speech_started("t1")
    assert playback.calls[-1] == "pause" and barge_in.held_turn == "t1"


@pytest.mark.parametrize("heard", ["a l l l l l l l l l l l", "oh oh oh oh oh", "Uh, ah. Oh!"])
def test_what_a_small_recogniser_makes_of_a_faint_echo_is_not_an_interruption(heard: str) -> None:
    # Whisper tiny.en's readings of the greeting's first echo, cut short by the pause
    # (cluster test, load average 2-6): none of them the bot's words.
    assert judge(heard, GREETING) is Verdict.RESUME_FALSE


@pytest.mark.parametrize("heard", ["no no no no", "Oh, I see a problem", "oh wait", "A B C 1 2 3"])
def test_a_caller_saying_a_word_among_interjections_still_interrupts(heard: str) -> None:
    assert judge(heard, GREETING) is Verdict.INTERRUPT
