"""The voice a request names per language (``lang.availables``) reaches Speak: at the
start of the call and on a switch of language mid-call."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard import domain
from switchboard.config import Features
from switchboard.phone import PhoneAnswer, PhoneMode, PhoneRegister, PhoneRinging
from switchboard.speech import SpeakSettings, Transcript
from switchboard_testing.dialer_fakes import Rig, build_rig, make_request

LANGS = (
    domain.LangOption(short_code="en-US", voice="joe"),
    domain.LangOption(short_code="fr-FR", voice="fr-fr+f3"),
)


@pytest.fixture
async def voice() -> Any:
    rig = build_rig(Features(phone_silence_timeout_sec=20))
    yield rig
    await rig.app.stop()


async def answered(rig: Rig, request: domain.CallRequest) -> None:
    phone = rig.telephony.register(
        PhoneRegister(number=request.phone_number, mode=PhoneMode.VOICE, sample_rate=8000)
    )
    await rig.app.dialer.place_call(request)
    await rig.clock.settle()
    ringing = None
    while not phone._downlink.empty():
        event = phone._downlink.get_nowait()
        if isinstance(event, PhoneRinging):
            ringing = event
    assert ringing is not None
    await phone.handle(PhoneAnswer(call_id=ringing.call_id))
    await rig.clock.settle()


async def test_the_voice_named_for_the_calls_language_opens_the_speak_stream(voice: Rig) -> None:
    request = make_request().model_copy(update={"lang": "fr-FR", "langs": LANGS})
    await answered(voice, request)
    assert (voice.speech.speaks[0].config.lang, voice.speech.speaks[0].config.voice) == (
        "fr-FR",
        "fr-fr+f3",
    )


async def test_a_switch_of_language_mid_call_takes_the_voice_named_for_it(voice: Rig) -> None:
    await answered(voice, make_request().model_copy(update={"langs": LANGS}))
    assert voice.speech.speaks[0].config.voice == "joe"

    voice.speech.ear.emit(Transcript("on continue en français", is_final=True))
    await voice.clock.settle()

    settings = [r for r in voice.speech.speak_requests if isinstance(r, SpeakSettings)]
    assert [(s.lang, s.voice) for s in settings] == [("fr-FR", "fr-fr+f3")]
    # A Speak stream reopened later asks for that voice from the start.
    voice.speech.restart()
    await voice.clock.elapse(1.0)
    assert (voice.speech.speaks[-1].config.lang, voice.speech.speaks[-1].config.voice) == (
        "fr-FR",
        "fr-fr+f3",
    )


async def test_a_switch_to_a_language_without_a_named_voice_drops_the_old_voice(
    voice: Rig,
) -> None:
    request = make_request().model_copy(update={"voice": "joe"})
    await answered(voice, request)
    voice.speech.ear.emit(Transcript("on continue en français", is_final=True))
    await voice.clock.settle()
    settings = [r for r in voice.speech.speak_requests if isinstance(r, SpeakSettings)]
    assert [(s.lang, s.voice) for s in settings] == [("fr-FR", "")]
