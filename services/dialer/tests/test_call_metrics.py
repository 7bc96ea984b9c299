"""The call metrics a voice call records: answer latency, cutoff latency, frames in and out.

The instruments are swapped for recorders (the process has no meter provider in
tests); the call runs on the virtual clock with fake speech, as in ``test_voice``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.config import Features
from switchboard.phone import AudioFrame, PhoneAnswer, PhoneMode, PhoneRegister, PhoneRinging
from switchboard.speech import SpeechEnded, SpeechStarted, Transcript
from switchboard_dialer.media import speech_links, voice
from switchboard_testing.dialer_fakes import Rig, build_rig
from switchboard_testing.speech_fakes import frame_of

FRAME = 0.02


class Recorder:
    """Stands in for a histogram: the values recorded, in order."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def record(self, value: float, attributes: dict[str, str] | None = None) -> None:
        self.values.append(value)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, Recorder]:
    recorders = {name: Recorder() for name in ("answer", "cutoff", "out", "in")}
    monkeypatch.setattr(voice, "ANSWER_LATENCY", recorders["answer"])
    monkeypatch.setattr(voice, "CUTOFF_LATENCY", recorders["cutoff"])
    monkeypatch.setattr(voice, "FRAMES_OUT_LATENCY", recorders["out"])
    monkeypatch.setattr(speech_links, "FRAMES_IN_LATENCY", recorders["in"])
    return recorders


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = build_rig(Features(phone_silence_timeout_sec=20))
    yield rig
    await rig.app.stop()


async def answered_voice_call(rig: Rig) -> object:
    phone = rig.telephony.register(
        PhoneRegister(number="+14155550100", mode=PhoneMode.VOICE, sample_rate=8000)
    )
    await rig.place()
    await rig.clock.settle()
    ringing = []
    while not phone._downlink.empty():
        event = phone._downlink.get_nowait()
        if isinstance(event, PhoneRinging):
            ringing.append(event)
    await phone.handle(PhoneAnswer(call_id=ringing[0].call_id))
    await rig.clock.settle()
    return phone


async def play(rig: Rig, frames: int) -> None:
    for _ in range(frames):
        await rig.clock.elapse(FRAME)


async def test_a_barge_in_records_the_caller_audio_that_went_by_before_the_bot_stopped(
    rig: Rig, recorded: dict[str, Recorder]
) -> None:
    phone = await answered_voice_call(rig)
    await play(rig, 5)  # the greeting is playing
    for _ in range(12):  # 240 ms of the caller's audio reach Listen
        await phone.handle(AudioFrame(pcm=frame_of(8000, 0)))  # type: ignore[attr-defined]
    await rig.clock.settle()
    assert len(recorded["in"].values) == 12

    rig.speech.ear.emit(SpeechStarted(offset_ms=100))  # speech began 140 ms ago
    await rig.clock.settle()

    assert recorded["cutoff"].values == [pytest.approx(0.14)]
    assert recorded["out"].values  # the greeting's frames waited in the playout queue


async def test_the_answer_latency_runs_from_the_callers_last_word_to_the_first_answer_frame(
    rig: Rig, recorded: dict[str, Recorder]
) -> None:
    await answered_voice_call(rig)
    await play(rig, 40)  # the whole greeting
    rig.speech.ear.emit(SpeechStarted(offset_ms=0))
    rig.speech.ear.emit(SpeechEnded(offset_ms=600))
    await rig.clock.settle()
    await play(rig, 5)  # the recogniser takes 100 ms
    rig.speech.ear.emit(Transcript("My roof leaks.", is_final=True))
    await play(rig, 40)

    # Brain and speech fakes answer at once: 100 ms, plus up to a frame of pacing.
    [answer] = recorded["answer"].values
    assert 5 * FRAME <= answer <= 6 * FRAME + 1e-9
