"""The answering-machine detector on its own: the beep detector on real audio (Piper's
voice, tones, noise, silence) at 8 and 16 kHz, and the screen's rules on audio time."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from switchboard import domain
from switchboard.config import VoicemailSettings
from switchboard_dialer.media.answer_screen import (
    AnswerScreen,
    AnswerState,
    ScreenRules,
    sounds_like_voicemail,
)
from switchboard_dialer.media.beep import BeepDetector
from switchboard_dialer.voicemail import screen_for, spoken_number, voicemail_message

RATES = (8000, 16000)
SPEECH = (
    "Hi, you've reached Pat. I can't take your call right now, please leave a message.",
    "Hello?",
    "Yes, speaking. Who is this?",
    "Ooooooh, mmmmmmm, aaaaaaah, eeeeeeeee.",
)


def frames(pcm: bytes, rate: int) -> Iterator[bytes]:
    size = rate // 50 * 2
    for start in range(0, len(pcm) - size + 1, size):
        yield pcm[start : start + size]


def tone(hz: float, ms: int, rate: int, amplitude: float = 8000.0) -> bytes:
    t = np.arange(rate * ms // 1000) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()


def silence(ms: int, rate: int) -> bytes:
    return bytes(rate * ms // 1000 * 2)


def beeps_in(pcm: bytes, rate: int) -> int:
    detector = BeepDetector(rate)
    return sum(detector.feed(frame) for frame in frames(pcm, rate))


@pytest.fixture(scope="module")
def piper() -> object:
    from switchboard_speech.tts.piper import PiperTTS  # the voice the callee tests speak with

    return PiperTTS(threads=1)


def spoken(piper: object, text: str, rate: int) -> bytes:
    from switchboard_speech.tts.base import Voice

    pcm: bytes = piper.render(text, Voice("", "en-US"), rate)  # type: ignore[attr-defined]
    return pcm


# The beep detector.


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("hz", [440.0, 850.0, 1000.0, 1400.0, 2000.0, 1013.7])
def test_a_beep_is_heard_once_when_it_ends(rate: int, hz: float) -> None:
    detector = BeepDetector(rate)
    heard = [detector.feed(f) for f in frames(tone(hz, 500, rate) + silence(100, rate), rate)]

    assert heard.count(True) == 1
    assert heard.index(True) == 25  # the first frame after the 25 frames of tone
    assert detector.last_hz == pytest.approx(hz, abs=50)


@pytest.mark.parametrize("rate", RATES)
def test_a_beep_under_line_noise_is_still_a_beep(rate: int) -> None:
    noise = np.random.default_rng(1).normal(0, 800, rate // 2)  # about 20 dB below the tone
    beep = np.frombuffer(tone(1000.0, 500, rate), dtype="<i2") + noise
    pcm = np.clip(beep, -32768, 32767).astype("<i2").tobytes() + silence(100, rate)

    assert beeps_in(pcm, rate) == 1


@pytest.mark.parametrize("rate", RATES)
def test_speech_silence_noise_and_a_click_are_not_beeps(piper: object, rate: int) -> None:
    noise = np.random.default_rng(0).normal(0, 3000, rate * 2).astype("<i2").tobytes()
    assert beeps_in(silence(2000, rate), rate) == 0
    assert beeps_in(noise, rate) == 0
    assert beeps_in(tone(1000.0, 100, rate) + silence(100, rate), rate) == 0  # too short
    assert beeps_in(tone(1000.0, 500, rate, amplitude=100) + silence(100, rate), rate) == 0
    for text in SPEECH:
        assert beeps_in(spoken(piper, text, rate) + silence(100, rate), rate) == 0, text


@pytest.mark.parametrize("rate", RATES)
def test_a_greeting_then_a_beep_is_one_beep_at_its_end(piper: object, rate: int) -> None:
    pcm = spoken(piper, SPEECH[0], rate) + silence(300, rate) + tone(1000.0, 400, rate)
    detector = BeepDetector(rate)
    heard = [detector.feed(f) for f in frames(pcm + silence(100, rate), rate)]

    assert heard.count(True) == 1
    # On the frame after the tone's last one (the speech does not end on a frame edge).
    assert abs(heard.index(True) - len(pcm) / (rate // 50 * 2)) <= 1


# The transcript rule.


@pytest.mark.parametrize(
    "text",
    [
        "Hi, you've reached Pat. Please leave a message after the tone.",
        "You have reached the voicemail of John Smith.",
        "The person you are calling is not available.",
        "I can\u2019t take your call right now.",  # a typographic apostrophe
        "Sorry, I'm unavailable, I'll get back to you.",
        "The mailbox is full.",
        "Please record your message at the beep.",
    ],
)
def test_voicemail_greetings_read_like_voicemail(text: str) -> None:
    assert sounds_like_voicemail(text)


@pytest.mark.parametrize(
    "text",
    ["Hello?", "Yes, speaking.", "Who is this?", "Hi, this is Pat.", "Yeah, go ahead, I can talk."],
)
def test_what_people_say_on_picking_up_does_not(text: str) -> None:
    assert not sounds_like_voicemail(text)


# The screen's rules, on audio time.

RULES = ScreenRules()
RATE = 8000
QUIET = silence(20, RATE)


def run(screen: AnswerScreen, ms: int, pcm: bytes = QUIET) -> None:
    for _ in range(ms // 20):
        screen.frame(pcm)


def test_nobody_speaking_is_a_person_waiting_for_the_bot() -> None:
    screen = AnswerScreen(RATE, RULES)
    run(screen, RULES.silence_human_ms - 20)
    assert screen.deciding
    run(screen, 20)
    assert (screen.state, screen.reason) == (AnswerState.HUMAN, "silence")


def test_a_short_hello_then_quiet_is_a_person_once_its_transcript_came() -> None:
    screen = AnswerScreen(RATE, RULES)
    run(screen, 300)
    screen.speech_started()
    run(screen, 600)
    screen.speech_ended()
    run(screen, 400)
    assert screen.deciding  # no transcript yet: "hello?" or "leave a message"?
    screen.transcript("Hello?", final=True)
    run(screen, RULES.human_silence_ms)
    assert (screen.state, screen.reason) == (AnswerState.HUMAN, "short_answer")
    assert screen.decided_ms == 1300  # quiet for 400 ms already when it came


def test_a_short_answer_whose_transcript_is_late_is_a_person_after_the_wait() -> None:
    screen = AnswerScreen(RATE, RULES)
    screen.speech_started()
    run(screen, 500)
    screen.speech_ended()
    run(screen, RULES.transcript_wait_ms)
    assert screen.state is AnswerState.HUMAN


def test_talk_going_on_past_the_greeting_limit_is_a_machine() -> None:
    screen = AnswerScreen(RATE, RULES)
    screen.speech_started()
    run(screen, 1500)
    screen.speech_ended()  # a pause between sentences, shorter than the decision
    screen.speech_started()
    run(screen, RULES.greeting_machine_ms - 1500)
    assert (screen.state, screen.reason) == (AnswerState.MACHINE, "long_greeting")


def test_a_voicemail_phrase_decides_at_once_even_in_a_partial() -> None:
    screen = AnswerScreen(RATE, RULES)
    screen.speech_started()
    run(screen, 800)
    screen.transcript("hi you've reached", final=False)
    assert (screen.state, screen.reason) == (AnswerState.MACHINE, "phrase")


def test_a_machine_gets_its_message_after_the_beep() -> None:
    screen = AnswerScreen(RATE, RULES)
    screen.speech_started()
    screen.transcript("please leave a message after the tone", final=False)
    run(screen, 1000)
    screen.speech_ended()
    run(screen, 300)
    run(screen, 400, tone(1000.0, 20, RATE))
    assert screen.state is AnswerState.MACHINE  # the beep is still sounding
    run(screen, 20)
    assert (screen.state, screen.cue) == (AnswerState.MESSAGE, "beep")


def test_a_machine_without_a_beep_gets_its_message_after_the_greeting_and_a_silence() -> None:
    screen = AnswerScreen(RATE, RULES)
    screen.speech_started()
    run(screen, RULES.greeting_machine_ms)
    screen.speech_ended()
    run(screen, RULES.no_beep_silence_ms - 20)
    assert screen.state is AnswerState.MACHINE
    run(screen, 20)
    assert (screen.state, screen.cue) == (AnswerState.MESSAGE, "silence_after_greeting")


def test_a_beep_alone_is_a_machine_ready_to_record() -> None:
    screen = AnswerScreen(RATE, RULES)
    run(screen, 400, tone(1000.0, 20, RATE))
    run(screen, 20)
    assert (screen.state, screen.reason, screen.cue) == (AnswerState.MESSAGE, "beep", "beep")


def test_the_carriers_detection_decides_and_unknown_results_change_nothing() -> None:
    screen = AnswerScreen(RATE, RULES)
    screen.carrier("unknown")
    screen.carrier("fax")
    assert screen.deciding
    screen.carrier("machine_start")
    assert screen.state is AnswerState.MACHINE
    screen.carrier("human")  # too late: a machine was heard
    assert screen.state is AnswerState.MACHINE
    screen.carrier("machine_end_beep")
    assert (screen.state, screen.cue) == (AnswerState.MESSAGE, "carrier:machine_end_beep")

    person = AnswerScreen(RATE, RULES)
    person.carrier("human")
    assert person.state is AnswerState.HUMAN


def test_a_line_without_audio_is_screened_as_a_person_on_the_clock() -> None:
    screen = AnswerScreen(RATE, RULES)
    screen.no_audio()
    assert (screen.state, screen.reason) == (AnswerState.HUMAN, "no_audio")
    heard = AnswerScreen(RATE, RULES)
    run(heard, 20)
    heard.no_audio()  # frames come: the audio's own time decides
    assert heard.deciding


# Which calls are screened, and the message.


def _call(direction: domain.CallDirection, agent: str = "+14155550199") -> domain.Call:
    request = domain.CallRequest(
        bot_company="Contoso",
        bot_name="Joe",
        phone_number="+14155550100",
        agent_phone_number=agent,
        task="t",
    )
    return domain.Call(call_id="c", initiate=request, direction=direction)


def test_only_outbound_calls_are_screened_and_only_when_enabled() -> None:
    settings = VoicemailSettings()
    assert screen_for(_call(domain.CallDirection.OUTBOUND), settings, 8000) is not None
    assert screen_for(_call(domain.CallDirection.INBOUND), settings, 8000) is None
    off = VoicemailSettings(enabled=False)
    assert screen_for(_call(domain.CallDirection.OUTBOUND), off, 8000) is None


def test_the_message_names_the_bot_and_reads_the_callback_number_digit_by_digit() -> None:
    settings = VoicemailSettings(message="{bot_name} of {bot_company}: call {callback_number}.")
    assert voicemail_message(_call(domain.CallDirection.OUTBOUND).initiate, settings) == (
        "Joe of Contoso: call 4 1 5, 5 5 5, 0 1 9 9."
    )
    assert spoken_number("+33612345678") == "3 3 6, 1 2 3, 4 5 6, 7 8"


def test_a_bad_message_template_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="bot_name"):
        VoicemailSettings(message="Hi {customer_name}")
    with pytest.raises(ValueError, match=r"E\.164"):
        VoicemailSettings(callback_number="12")
