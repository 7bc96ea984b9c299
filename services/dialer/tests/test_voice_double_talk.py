"""The double-talk check in the voice pipeline: on a line known to echo, the caller's
voice above the echo stops the bot before any word is recognised (a recogniser
without partial transcripts), while the echo alone never does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from switchboard.config import Features
from switchboard.converse import CancelAgentTurn, UserTurn
from switchboard.media import AudioFrame
from switchboard.phone import (
    ClearAudio,
    PhoneAnswer,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
)
from switchboard.speech import SpeechEnded, SpeechStarted, Transcript
from switchboard_dialer.media.double_talk import MIN_FLOOR_ENERGY, EchoPath
from switchboard_dialer.media.voice import VoicePipeline
from switchboard_dialer.telephony.simulator import SimulatedPhone
from switchboard_testing.dialer_fakes import Rig, audio_frames, build_rig, downlink

BOT_LEVEL = 257  # the fake synthesiser's frames: bytes of 1, PCM16 0x0101
ECHO_GAIN = 10 ** (-10 / 20)


@pytest.fixture
async def voice() -> Any:
    rig = build_rig(Features(phone_silence_timeout_sec=20))
    yield rig
    await rig.app.stop()


async def play(rig: Rig, n: int) -> None:
    for _ in range(n):
        await rig.clock.elapse(0.02)


async def answered(rig: Rig) -> tuple[SimulatedPhone, str]:
    phone = rig.telephony.register(
        PhoneRegister(number="+14155550100", mode=PhoneMode.VOICE, sample_rate=8000)
    )
    await rig.place()
    await rig.clock.settle()
    (ringing,) = [e for e in downlink(phone) if isinstance(e, PhoneRinging)]
    await phone.handle(PhoneAnswer(call_id=ringing.call_id))
    await rig.clock.settle()
    return phone, ringing.call_id


async def echo_heard(rig: Rig, said: str) -> None:
    rig.speech.ear.emit(SpeechStarted(offset_ms=0))
    await play(rig, 3)
    rig.speech.ear.emit(SpeechEnded(offset_ms=400))
    rig.speech.ear.emit(Transcript(said, is_final=True))
    await rig.clock.settle()


def pipeline_of(rig: Rig, call_id: str) -> VoicePipeline:
    live = rig.app.registry.get(call_id)
    assert live is not None and live.session is not None and live.session.voice is not None
    return live.session.voice


def echo_frame() -> bytes:
    return np.full(160, round(BOT_LEVEL * ECHO_GAIN), "<i2").tobytes()


def callers_voice(seed: int) -> bytes:
    samples = np.random.default_rng(seed).normal(0, 3000, 160) + BOT_LEVEL * ECHO_GAIN
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


async def test_on_an_echoing_line_the_callers_voice_stops_the_bot_within_frames(
    voice: Rig,
) -> None:
    phone, call_id = await answered(voice)
    await play(voice, 7)
    await echo_heard(voice, "hello this is")  # the line is known to echo now
    pipeline = pipeline_of(voice, call_id)
    assert pipeline.barge_in.echoing_line
    # The path as the check learns it on a real line (see test_double_talk.py).
    pipeline.double_talk.adopt(EchoPath(2, ECHO_GAIN**2, MIN_FLOOR_ENERGY, 1.0))
    downlink(phone)

    voice.speech.ear.emit(SpeechStarted(offset_ms=900))  # the echo of the greeting
    for _ in range(3):
        await phone.handle(AudioFrame(pcm=echo_frame()))
        await play(voice, 1)
    assert pipeline.double_talk.active
    assert audio_frames(downlink(phone)) == 3  # the echo alone: the bot plays on

    stopped_after = None
    for tick in range(1, 6):  # the caller talks over it; no partial transcript comes
        await phone.handle(AudioFrame(pcm=callers_voice(tick)))
        await play(voice, 1)
        if ClearAudio() in downlink(phone):
            stopped_after = tick
            break
    assert stopped_after is not None and stopped_after <= 4, stopped_after

    voice.speech.ear.emit(SpeechEnded(offset_ms=1500))
    voice.speech.ear.emit(Transcript("this is I have a question", is_final=True))
    await voice.clock.settle()
    assert voice.brain.requests(CancelAgentTurn) == [CancelAgentTurn("greet")]
    (turn,) = voice.brain.requests(UserTurn)
    assert turn.text == "I have a question"  # type: ignore[union-attr]
