"""Outbound calls screened for answering machines, on the dialer with fake speech and brain.

The screen's time is the callee's audio: each frame the phone sends is 20 ms of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from switchboard import domain
from switchboard.config import Features
from switchboard.converse import CancelAgentTurn, PlayoutReport, UserTurn
from switchboard.phone import (
    AudioFrame,
    BotSaid,
    BotTurnDone,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneSay,
)
from switchboard.speech import CancelTurn, SpeechEnded, SpeechStarted, Transcript
from switchboard_dialer.telephony.simulator import SimulatedPhone
from switchboard_testing.dialer_fakes import Rig, build_rig
from switchboard_testing.speech_fakes import frame_of

RATE = 8000
MESSAGE = "This is Joe, we will call again."
QUIET = frame_of(RATE, 0)
BEEP = (8000 * np.sin(2 * np.pi * 1000 * np.arange(RATE // 50) / RATE)).astype("<i2").tobytes()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = build_rig(
        Features(phone_silence_timeout_sec=20),
        voicemail={"enabled": True, "message_without_number": MESSAGE, "message": MESSAGE},
    )
    yield rig
    await rig.app.stop()


async def answered(rig: Rig) -> tuple[SimulatedPhone, str]:
    phone = rig.telephony.register(
        PhoneRegister(number="+14155550100", mode=PhoneMode.VOICE, sample_rate=RATE)
    )
    call = await rig.place()
    await rig.clock.settle()
    assert any(isinstance(e, PhoneRinging) for e in drain(phone))
    await phone.handle(PhoneAnswer(call_id=call.call_id))
    await rig.clock.settle()
    return phone, call.call_id


def drain(phone: SimulatedPhone) -> list[object]:
    events = []
    while not phone._downlink.empty():
        events.append(phone._downlink.get_nowait())
    return events


async def send(rig: Rig, phone: SimulatedPhone, pcm: bytes, ms: int) -> None:
    """``ms`` of the callee's audio, each frame with its 20 ms of clock."""
    for _ in range(ms // 20):
        await phone.handle(AudioFrame(pcm=pcm))
        await rig.clock.elapse(0.02)


def bot_frames(events: list[object]) -> int:
    return sum(isinstance(e, AudioFrame) for e in events)


async def test_a_machine_greeting_and_beep_get_the_message_then_the_call_ends_voicemail(
    rig: Rig,
) -> None:
    phone, call_id = await answered(rig)
    rig.speech.ear.emit(SpeechStarted(offset_ms=0))
    await send(rig, phone, QUIET, 600)
    rig.speech.ear.emit(Transcript("Hi, you've reached Pat, please leave", is_final=False))
    await send(rig, phone, QUIET, 1400)
    rig.speech.ear.emit(SpeechEnded(offset_ms=2000))
    rig.speech.ear.emit(Transcript("Hi, you've reached Pat, please leave a message.", True))
    await send(rig, phone, QUIET, 400)
    assert bot_frames(drain(phone)) == 0  # the greeting was held, then dropped
    assert CancelTurn("greet") in rig.speech.speak_requests
    assert rig.brain.requests(CancelAgentTurn) == [CancelAgentTurn("greet")]
    assert rig.brain.requests(PlayoutReport) == [PlayoutReport("greet", "", interrupted=True)]

    await send(rig, phone, BEEP, 400)
    assert bot_frames(drain(phone)) == 0  # not over the beep
    await send(rig, phone, QUIET, 2000)  # the message plays (fake speech: 5 frames a word)
    events = drain(phone)
    assert bot_frames(events) == 5 * len(MESSAGE.split())
    assert any(isinstance(e, BotTurnDone) for e in events)
    assert rig.store.reasons(call_id)[-1] == "ended:voicemail"
    assert not rig.brain.requests(UserTurn)  # the greeting was nobody's answer
    lines = [(m.persona, m.content) for m in rig.store.calls[call_id].messages]
    assert (domain.Persona.TOOL, "answered_by: machine") in lines
    assert (domain.Persona.ASSISTANT, MESSAGE) in lines


async def test_a_person_saying_hello_hears_the_greeting_and_hello_is_no_turn(rig: Rig) -> None:
    phone, _ = await answered(rig)
    await send(rig, phone, QUIET, 300)
    rig.speech.ear.emit(SpeechStarted(offset_ms=300))
    await send(rig, phone, QUIET, 500)
    rig.speech.ear.emit(SpeechEnded(offset_ms=800))
    await send(rig, phone, QUIET, 100)
    assert bot_frames(drain(phone)) == 0  # deciding: "hello?" or "leave a message"?
    rig.speech.ear.emit(Transcript("Hello?", is_final=True))
    await send(rig, phone, QUIET, 1000)

    assert bot_frames(drain(phone)) > 0  # the greeting plays
    assert not rig.brain.requests(UserTurn)
    assert not rig.brain.requests(CancelAgentTurn)

    # From now on the caller's words are turns, as on any call.
    await send(rig, phone, QUIET, 2000)
    rig.speech.ear.emit(SpeechStarted(offset_ms=4000))
    rig.speech.ear.emit(SpeechEnded(offset_ms=4500))
    rig.speech.ear.emit(Transcript("It happened yesterday.", is_final=True))
    await send(rig, phone, QUIET, 100)
    assert [t.text for t in rig.brain.requests(UserTurn)] == ["It happened yesterday."]  # type: ignore[attr-defined]


async def test_a_person_who_waits_in_silence_hears_the_greeting_after_the_silence_rule(
    rig: Rig,
) -> None:
    phone, _ = await answered(rig)
    await send(rig, phone, QUIET, rig.settings.voicemail.silence_human_ms - 20)
    assert bot_frames(drain(phone)) == 0
    await send(rig, phone, QUIET, 200)
    assert bot_frames(drain(phone)) > 0


async def test_a_line_without_audio_still_gets_the_greeting_on_the_clock(rig: Rig) -> None:
    phone, _ = await answered(rig)
    await rig.clock.elapse(rig.settings.voicemail.silence_human_ms / 1000 + 1.2)
    assert bot_frames(drain(phone)) > 0


async def test_the_carriers_machine_end_leaves_the_message_at_once(rig: Rig) -> None:
    phone, call_id = await answered(rig)
    live = rig.app.registry.get(call_id)
    assert live is not None and live.session is not None
    await live.session.carrier_answered_by("machine_end_beep")
    await send(rig, phone, QUIET, 2000)

    assert bot_frames(drain(phone)) == 5 * len(MESSAGE.split())
    assert rig.store.reasons(call_id)[-1] == "ended:voicemail"


async def test_a_text_line_whose_first_words_are_a_voicemail_greeting_gets_the_message(
    rig: Rig,
) -> None:
    phone, call = await rig.connect()
    await phone.send(PhoneSay("You have reached Pat, please leave a message after the tone."))
    said = await phone.until(PhoneCallEnded)

    assert [e.text for e in said if isinstance(e, BotSaid)] == [MESSAGE]
    assert rig.store.reasons(call.call_id)[-1] == "ended:voicemail"
    assert not rig.brain.requests(UserTurn)
    lines = [(m.persona, m.content) for m in rig.store.calls[call.call_id].messages]
    assert lines[-2:] == [
        (domain.Persona.TOOL, "answered_by: machine"),
        (domain.Persona.ASSISTANT, MESSAGE),
    ]


async def test_a_text_line_answered_by_a_person_goes_on(rig: Rig) -> None:
    phone, _ = await rig.connect()
    await phone.send(PhoneSay("It happened yesterday."))
    await rig.clock.settle()
    assert [t.text for t in rig.brain.requests(UserTurn)] == ["It happened yesterday."]  # type: ignore[attr-defined]
