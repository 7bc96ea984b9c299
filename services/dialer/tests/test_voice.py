"""Voice calls on the dialer: playout, barge-in, timers and reconnects on the virtual clock.

Fake speech renders every word as five 20 ms frames; the greeting "Hello, this is
Switchboard." is 4 words, 20 frames. Time moves only when a test advances it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from switchboard import domain
from switchboard.config import Features
from switchboard.converse import CancelAgentTurn, Dtmf, PlayoutReport, SilenceTimeout, UserTurn
from switchboard.phone import (
    AudioFrame,
    BotSaid,
    BotTurnDone,
    ClearAudio,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneConnected,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
)
from switchboard.speech import (
    SpeakText,
    SpeechAudio,
    SpeechEnded,
    SpeechStarted,
    Transcript,
)
from switchboard_dialer.media.barge_in import Verdict, is_backchannel, judge
from switchboard_dialer.media.echo import ECHO_TAIL_SEC
from switchboard_dialer.media.playout import Playout, TurnEnd
from switchboard_dialer.session import UTTERANCE_MAX_SEC
from switchboard_dialer.telephony.simulator import SimulatedPhone
from switchboard_testing.clock import VirtualClock
from switchboard_testing.dialer_fakes import (
    DRAINED,
    EXPECT_DATE,
    EXPECT_PHONE,
    GREETING,
    STILL_THERE,
    Rig,
    audio_frames,
    build_rig,
    downlink,
)
from switchboard_testing.speech_fakes import FRAMES_PER_WORD, frame_of

GREETING_FRAMES = FRAMES_PER_WORD * len(GREETING.split())
FRAME = 0.02


@pytest.fixture
async def voice() -> Any:
    rig = build_rig(Features(phone_silence_timeout_sec=20))
    yield rig
    await rig.app.stop()


async def play(clock: VirtualClock, n: int) -> None:
    """Lets n frame periods pass."""
    for _ in range(n):
        await clock.elapse(FRAME)


async def ring_voice_phone(rig: Rig) -> tuple[SimulatedPhone, str]:
    phone = rig.telephony.register(
        PhoneRegister(number="+14155550100", mode=PhoneMode.VOICE, sample_rate=8000)
    )
    await rig.place()
    await rig.clock.settle()
    (ringing,) = [e for e in downlink(phone) if isinstance(e, PhoneRinging)]
    return phone, ringing.call_id


async def answered(rig: Rig) -> tuple[SimulatedPhone, str]:
    phone, call_id = await ring_voice_phone(rig)
    await phone.handle(PhoneAnswer(call_id=call_id))
    await rig.clock.settle()
    return phone, call_id


# Playout.


async def test_playout_sends_frames_on_absolute_deadlines_without_accumulating_jitter():
    clock = VirtualClock()
    sent: list[float] = []
    ended: list[str] = []

    async def turn_end(turn_id: str) -> None:
        ended.append(turn_id)

    playout = Playout(lambda pcm: sent.append(clock.monotonic()), lambda f: None, turn_end, clock)
    for _ in range(5):
        playout.push(SpeechAudio("t", 0, AudioFrame(frame_of(8000))))
    playout.push(TurnEnd("t"))
    task = asyncio.create_task(playout.run())
    try:
        await clock.settle()
        await clock.elapse(0.025)  # the loop woke 5 ms late for frame 1 ...
        await clock.elapse(0.015)  # ... frame 2 is still due at 40 ms, not 45 ms
        await clock.elapse(0.02)
        await clock.elapse(0.02)
        assert sent == pytest.approx([0.0, 0.025, 0.04, 0.06, 0.08])
        assert ended == ["t"]
        assert playout.lateness.frames == 5
        assert playout.lateness.max_sec == pytest.approx(0.005)
        assert 4.9 <= playout.lateness.percentile_ms(99) <= 5.2
    finally:
        task.cancel()


def _frame(turn_id: str = "t") -> SpeechAudio:
    return SpeechAudio(turn_id, 0, AudioFrame(frame_of(8000)))


def _playout(clock: VirtualClock, sent: list[float]) -> Playout:
    async def turn_end(turn_id: str) -> None:
        pass

    return Playout(lambda pcm: sent.append(clock.monotonic()), lambda f: None, turn_end, clock)


async def test_a_streaming_reply_starts_when_its_second_frame_arrives_then_is_paced():
    clock = VirtualClock()
    sent: list[float] = []
    playout = _playout(clock, sent)
    task = asyncio.create_task(playout.run())
    try:
        playout.push(_frame())  # speech streams the reply one frame per message
        await clock.elapse(0.003)
        assert sent == []  # one frame alone does not start a run ...
        for _ in range(4):
            playout.push(_frame())  # ... the next one does, without the fixed 40 ms wait
        await clock.settle()
        assert sent == pytest.approx([0.003])
        await play(clock, 4)
        # Paced from the run's start: one frame every 20 ms, no burst of the queued ones.
        assert sent == pytest.approx([0.003, 0.023, 0.043, 0.063, 0.083])
    finally:
        task.cancel()


async def test_a_lone_frame_plays_after_the_bounded_jitter_wait():
    clock = VirtualClock()
    sent: list[float] = []
    playout = _playout(clock, sent)
    task = asyncio.create_task(playout.run())
    try:
        playout.push(_frame())
        await clock.elapse(0.039)
        assert sent == []
        await clock.elapse(0.001)
        assert sent == pytest.approx([0.040])
    finally:
        task.cancel()


async def test_a_pause_during_the_jitter_wait_keeps_the_reply_silent():
    clock = VirtualClock()
    sent: list[float] = []
    playout = _playout(clock, sent)
    task = asyncio.create_task(playout.run())
    try:
        playout.push(_frame())
        await clock.elapse(0.005)
        playout.pause()  # the caller barged in before the reply started
        playout.push(_frame())
        await play(clock, 5)
        assert sent == []
        playout.resume()
        await clock.settle()
        assert sent == pytest.approx([0.105])
    finally:
        task.cancel()


# The greeting.


async def test_the_greeting_is_synthesised_while_the_phone_rings_and_plays_at_the_answer(
    voice: Rig,
):
    phone, call_id = await ring_voice_phone(voice)

    assert [t.text for t in voice.speech.texts()] == [GREETING]  # before any answer
    await phone.handle(PhoneAnswer(call_id=call_id))
    await voice.clock.settle()
    first = downlink(phone)
    assert isinstance(first[0], PhoneConnected)
    assert audio_frames(first) == 1  # the first frame leaves at the answer, no time passed

    await play(voice.clock, GREETING_FRAMES)
    rest = downlink(phone)
    assert audio_frames(rest) == GREETING_FRAMES - 1
    assert isinstance(rest[-1], BotTurnDone)  # only once the last frame was played


async def test_a_voice_phone_gets_each_sentences_words_once_its_last_frame_was_played(
    voice: Rig,
):
    phone, _ = await answered(voice)
    await play(voice.clock, GREETING_FRAMES - 2)
    assert not [e for e in downlink(phone) if isinstance(e, BotSaid)]  # still playing

    await play(voice.clock, 2)

    said = [e for e in downlink(phone) if isinstance(e, BotSaid | BotTurnDone)]
    assert said == [BotSaid("greet", GREETING), BotTurnDone("greet")]


async def test_a_sentence_cut_off_by_a_barge_in_is_never_shown_as_said(voice: Rig):
    phone, _ = await answered(voice)
    await play(voice.clock, 9)

    await barge_in(voice, "I have a question about my policy")

    assert not [e for e in downlink(phone) if isinstance(e, BotSaid) and e.turn_id == "greet"]


async def test_a_callee_who_never_answers_leaves_the_greeting_marked_unheard(voice: Rig):
    await ring_voice_phone(voice)
    await voice.clock.elapse(voice.settings.ring_timeout_sec)

    (heard,) = voice.brain.requests(PlayoutReport)
    assert heard == PlayoutReport("greet", "", interrupted=True)


# Barge-in.


async def test_caller_interrupting_stops_playout_within_one_frame_and_reports_what_was_heard(
    voice: Rig,
):
    phone, _ = await answered(voice)
    await play(voice.clock, 9)  # 10 of the greeting's 20 frames played
    downlink(phone)

    voice.speech.ear.emit(SpeechStarted(offset_ms=0))
    await voice.clock.settle()
    await play(voice.clock, 5)

    after = downlink(phone)
    assert audio_frames(after) == 0
    assert after == [ClearAudio()]
    voice.speech.ear.emit(SpeechEnded(offset_ms=900))
    voice.speech.ear.emit(Transcript("I have a question about my policy", is_final=True))
    await voice.clock.settle()

    assert voice.speech.cancels() == ["greet"]
    assert voice.brain.requests(CancelAgentTurn) == [CancelAgentTurn("greet")]
    heard = voice.brain.requests(PlayoutReport)
    assert heard == [PlayoutReport("greet", "Hello, this", interrupted=True)]  # 2 of 4 words
    (turn,) = voice.brain.requests(UserTurn)
    assert turn.text == "I have a question about my policy"  # type: ignore[union-attr]
    assert voice.brain.received.index(heard[0]) < voice.brain.received.index(turn)
    await play(voice.clock, 40)
    assert audio_frames(downlink(phone)) > 0  # the answer to the interruption is played


async def barge_in(rig: Rig, said: str) -> None:
    rig.speech.ear.emit(SpeechStarted(offset_ms=0))
    await play(rig.clock, 3)
    rig.speech.ear.emit(SpeechEnded(offset_ms=600))
    rig.speech.ear.emit(Transcript(said, is_final=True))
    await rig.clock.settle()


async def test_a_barge_in_over_the_goodbye_keeps_the_call(voice: Rig):
    phone, call_id = await answered(voice)
    await play(voice.clock, GREETING_FRAMES + 2)
    voice.speech.ear.emit(Transcript("no, goodbye", is_final=True))
    await voice.clock.settle()
    await play(voice.clock, 2)  # the goodbye (and its end_call) started playing

    await barge_in(voice, "wait, one more thing")
    await play(voice.clock, 200)

    assert voice.brain.requests(CancelAgentTurn)[-1].turn_id == (  # type: ignore[union-attr]
        voice.brain.requests(UserTurn)[0].turn_id  # type: ignore[union-attr]
    )
    assert [t.text for t in voice.brain.requests(UserTurn)] == [  # type: ignore[union-attr]
        "no, goodbye",
        "wait, one more thing",
    ]
    assert not any(isinstance(e, PhoneCallEnded) for e in downlink(phone))
    assert voice.store.reasons(call_id)[-1] == "in_progress"


def texts_sent(rig: Rig, call_id: str) -> list[str]:
    messages = rig.store.calls[call_id].messages
    return [m.content for m in messages if m.action is domain.MessageAction.SMS]


async def test_a_text_message_is_sent_once_its_turn_was_played(voice: Rig):
    _, call_id = await answered(voice)
    await play(voice.clock, GREETING_FRAMES + 2)
    voice.speech.ear.emit(Transcript("please text me", is_final=True))
    await voice.clock.settle()
    await play(voice.clock, 3)
    assert texts_sent(voice, call_id) == []  # still playing

    await play(voice.clock, 200)
    assert texts_sent(voice, call_id) == ["Your claim is open."]


async def test_a_barge_in_drops_the_text_message_of_the_interrupted_turn(voice: Rig):
    _, call_id = await answered(voice)
    await play(voice.clock, GREETING_FRAMES + 2)
    voice.speech.ear.emit(Transcript("please text me", is_final=True))
    await voice.clock.settle()
    await play(voice.clock, 3)

    await barge_in(voice, "no, do not send anything")
    await play(voice.clock, 200)

    assert texts_sent(voice, call_id) == []


@pytest.mark.parametrize("said", ["mm-hmm", "Okay.", "Yeah", "uh-huh", "Right."])
async def test_a_backchannel_does_not_interrupt_the_bot(voice: Rig, said: str):
    phone, _ = await answered(voice)
    await play(voice.clock, 4)
    before = audio_frames(downlink(phone))  # the phone took them: a clear cannot drop them

    voice.speech.ear.emit(SpeechStarted(offset_ms=0))
    await play(voice.clock, 3)
    voice.speech.ear.emit(SpeechEnded(offset_ms=400))
    voice.speech.ear.emit(Transcript(said, is_final=True))
    await voice.clock.settle()
    await play(voice.clock, GREETING_FRAMES)

    events = downlink(phone)
    assert before + audio_frames(events) == GREETING_FRAMES  # every frame, once
    assert isinstance(events[-1], BotTurnDone)
    assert voice.speech.cancels() == []
    assert voice.brain.requests(PlayoutReport) == []
    assert voice.brain.requests(UserTurn) == []


async def test_a_false_interruption_resumes_where_the_bot_stopped(voice: Rig):
    phone, _ = await answered(voice)
    await play(voice.clock, 7)
    assert audio_frames(downlink(phone)) == 8
    voice.speech.ear.emit(SpeechStarted(offset_ms=0))
    await play(voice.clock, 10)
    assert downlink(phone) == [ClearAudio()]

    voice.speech.ear.emit(SpeechEnded(offset_ms=500))
    voice.speech.ear.emit(Transcript("", is_final=True))  # a cough: no words
    await voice.clock.settle()
    await play(voice.clock, GREETING_FRAMES)

    assert audio_frames(downlink(phone)) == GREETING_FRAMES - 8  # the rest, nothing repeated
    assert voice.brain.requests(PlayoutReport) == []


# Echo: the bot's own words heard back on a speakerphone line (see media/echo.py).


async def echo_heard(rig: Rig, said: str) -> None:
    rig.speech.ear.emit(SpeechStarted(offset_ms=0))
    await play(rig.clock, 3)
    rig.speech.ear.emit(SpeechEnded(offset_ms=400))
    rig.speech.ear.emit(Transcript(said, is_final=True))
    await rig.clock.settle()


async def test_the_bots_own_words_heard_back_do_not_interrupt_it(voice: Rig) -> None:
    phone, _ = await answered(voice)
    await play(voice.clock, 7)
    before = audio_frames(downlink(phone))

    await echo_heard(voice, "Hello, this is")  # the echo, 200 ms behind the bot
    await play(voice.clock, GREETING_FRAMES)

    events = downlink(phone)
    assert before + audio_frames(events) == GREETING_FRAMES  # every frame, once
    assert isinstance(events[-1], BotTurnDone)
    assert voice.speech.cancels() == []
    assert voice.brain.requests(PlayoutReport) == []
    assert voice.brain.requests(UserTurn) == []


async def test_on_an_echoing_line_echo_plays_on_and_a_caller_still_interrupts(
    voice: Rig,
) -> None:
    phone, _ = await answered(voice)
    await play(voice.clock, 7)
    await echo_heard(voice, "hello this is")  # the line is known to echo now
    downlink(phone)

    voice.speech.ear.emit(SpeechStarted(offset_ms=900))  # echo again, or the caller
    await play(voice.clock, 3)
    assert audio_frames(downlink(phone)) == 3  # the bot plays on: no stutter
    voice.speech.ear.emit(Transcript("I have a", is_final=False))
    await voice.clock.settle()
    await play(voice.clock, 3)
    assert downlink(phone) == [ClearAudio()]  # words that are not echo stop it at once

    voice.speech.ear.emit(SpeechEnded(offset_ms=1500))
    voice.speech.ear.emit(Transcript("I have a question about my policy", is_final=True))
    await voice.clock.settle()

    assert voice.speech.cancels() == ["greet"]
    assert voice.brain.requests(CancelAgentTurn) == [CancelAgentTurn("greet")]
    (turn,) = voice.brain.requests(UserTurn)
    assert turn.text == "I have a question about my policy"  # type: ignore[union-attr]


async def test_a_reply_run_together_with_the_echo_reaches_the_brain_without_it(
    voice: Rig,
) -> None:
    await answered(voice)
    await play(voice.clock, GREETING_FRAMES + 2)

    await echo_heard(voice, "is Switchboard. I have a question about my policy")
    (turn,) = voice.brain.requests(UserTurn)
    assert turn.text == "I have a question about my policy"  # type: ignore[union-attr]


async def test_the_echo_of_the_bots_last_words_is_not_a_caller_turn(voice: Rig) -> None:
    phone, _ = await answered(voice)
    await play(voice.clock, GREETING_FRAMES + 2)
    assert isinstance(downlink(phone)[-1], BotTurnDone)

    await echo_heard(voice, "this is Switchboard")  # its onset was 200 ms after the end
    assert voice.brain.requests(UserTurn) == []

    await voice.clock.elapse(ECHO_TAIL_SEC + 1)
    await echo_heard(voice, "this is Switchboard?")  # said by the caller, in the quiet
    (turn,) = voice.brain.requests(UserTurn)
    assert turn.text == "this is Switchboard?"  # type: ignore[union-attr]


def test_backchannels_and_turns_are_told_apart():
    assert is_backchannel("Mm-hmm.") and is_backchannel("okay, yeah")
    assert not is_backchannel("yeah, but my car is still broken")
    assert not is_backchannel("yes")  # over the end of a question it is an answer
    assert judge("") is Verdict.RESUME_FALSE
    assert judge("  ...  ") is Verdict.RESUME_FALSE
    assert judge("Stop, please") is Verdict.INTERRUPT


# Timers, fillers, DTMF.


async def test_the_brains_filler_is_played_before_the_answer(voice: Rig):
    phone, _ = await answered(voice)
    await play(voice.clock, GREETING_FRAMES)
    downlink(phone)

    voice.speech.ear.emit(SpeechStarted(offset_ms=0))
    voice.speech.ear.emit(SpeechEnded(offset_ms=800))
    voice.speech.ear.emit(Transcript("this is slow", is_final=True))
    await voice.clock.settle()

    (turn,) = voice.brain.requests(UserTurn)
    spoken = [t for t in voice.speech.texts() if t.turn_id == turn.turn_id]  # type: ignore[union-attr]
    assert spoken[0] == SpeakText(turn.turn_id, -1, "One moment.")  # type: ignore[union-attr]
    answer_words = sum(len(t.text.split()) for t in spoken)
    await play(voice.clock, answer_words * FRAMES_PER_WORD + 5)
    events = downlink(phone)
    assert audio_frames(events) == answer_words * FRAMES_PER_WORD
    assert isinstance(events[-1], BotTurnDone)


async def test_silence_after_the_bot_finished_playing_asks_the_brain(voice: Rig):
    await answered(voice)
    await play(voice.clock, GREETING_FRAMES)

    await voice.clock.elapse(19.9)
    assert voice.brain.requests(SilenceTimeout) == []
    await voice.clock.elapse(0.1)
    assert voice.brain.requests(SilenceTimeout) == [SilenceTimeout(count=1)]
    assert any(t.text == STILL_THERE for t in voice.speech.texts())


async def test_dtmf_on_a_voice_line_reaches_the_brain_as_one_keypad_turn(voice: Rig):
    phone, _ = await answered(voice)
    await phone.handle(Dtmf(digits="1"))
    await phone.handle(Dtmf(digits="2#"))
    await voice.clock.settle()
    assert [(t.text, t.keypad) for t in voice.brain.requests(UserTurn)] == [("12", True)]


async def test_caller_frames_reach_listen_at_the_lines_rate(voice: Rig):
    phone, _ = await answered(voice)
    for _ in range(3):
        await phone.handle(AudioFrame(pcm=frame_of(8000, 0)))
    await voice.clock.settle()
    assert voice.speech.ear.frames == 3
    assert voice.speech.ear.config.sample_rate == 8000


# Resilience.


async def test_a_speech_service_restart_mid_call_reopens_listen_and_speak_and_the_call_goes_on(
    voice: Rig,
):
    phone, _ = await answered(voice)
    await play(voice.clock, GREETING_FRAMES)
    downlink(phone)

    voice.speech.restart()
    await voice.clock.settle()
    await voice.clock.elapse(0.1)  # the first retry, well within a second

    assert len(voice.speech.listens) == 2 and len(voice.speech.speaks) == 2
    voice.speech.ear.emit(SpeechStarted(offset_ms=0))
    voice.speech.ear.emit(SpeechEnded(offset_ms=600))
    voice.speech.ear.emit(Transcript("my car was hit", is_final=True))
    await voice.clock.settle()
    await play(voice.clock, 60)
    events = downlink(phone)
    assert audio_frames(events) > 0
    assert isinstance(events[-1], BotTurnDone)
    assert voice.speech.speaks[-1].requests  # the answer went to the new stream


async def test_what_the_bot_asked_for_reaches_listen_and_survives_a_speech_restart(voice: Rig):
    # The greeting's expectation arrives while the phone rings, before Listen opens.
    phone, call_id = await ring_voice_phone(voice)
    await voice.clock.settle()
    assert voice.speech.listens == []
    await phone.handle(PhoneAnswer(call_id=call_id))
    await voice.clock.settle()
    assert voice.speech.ear.expected == [EXPECT_DATE]

    voice.speech.ear.emit(SpeechStarted(offset_ms=0))
    voice.speech.ear.emit(SpeechEnded(offset_ms=600))
    voice.speech.ear.emit(Transcript("please call me back", is_final=True))
    await voice.clock.settle()
    assert voice.speech.ear.expected == [EXPECT_DATE, EXPECT_PHONE]

    voice.speech.restart()
    await voice.clock.settle()
    await voice.clock.elapse(0.1)
    assert len(voice.speech.listens) == 2
    assert voice.speech.ear.expected == [EXPECT_PHONE]  # the new stream knows it at once


async def test_a_drained_voice_call_ends_only_once_the_goodbye_was_played(voice: Rig):
    phone, call_id = await answered(voice)
    await play(voice.clock, GREETING_FRAMES + 2)
    downlink(phone)
    drain = asyncio.create_task(voice.app.drain(1.0), name="drain")
    goodbye_frames = FRAMES_PER_WORD * len(DRAINED.split())

    await play(voice.clock, 50 + goodbye_frames // 2)  # the drain time, half the goodbye
    assert voice.store.reasons(call_id)[-1] == "in_progress"
    await play(voice.clock, goodbye_frames)

    events = downlink(phone)
    assert audio_frames(events) >= goodbye_frames
    assert events[-1] == PhoneCallEnded(reason="drained")
    assert voice.store.reasons(call_id)[-1] == "ended:drained"
    await asyncio.wait_for(drain, 1)


async def test_speech_started_with_no_transcript_still_ends_in_are_you_still_there(voice: Rig):
    await answered(voice)
    await play(voice.clock, GREETING_FRAMES)
    voice.speech.ear.emit(SpeechStarted(offset_ms=0))  # its final transcript is lost
    await voice.clock.settle()

    await voice.clock.elapse(20.0 + UTTERANCE_MAX_SEC - 0.1)
    assert voice.brain.requests(SilenceTimeout) == []  # a long utterance is waited for
    await voice.clock.elapse(0.1)
    assert voice.brain.requests(SilenceTimeout) == [SilenceTimeout(count=1)]
    assert any(t.text == STILL_THERE for t in voice.speech.texts())
