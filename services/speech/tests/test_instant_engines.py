"""The ``instant`` engines of the whole-system benchmarks: no model, fixed answers, at once."""

from __future__ import annotations

import pytest

from switchboard.config import SpeechSettings
from switchboard_speech.audio import frame_bytes
from switchboard_speech.engines import build_engines
from switchboard_speech.stt.instant import INSTANT_TEXT, InstantSTT
from switchboard_speech.tts.base import Voice
from switchboard_speech.tts.instant import SENTENCE_FRAMES, InstantTTS, tone_frame


def test_instant_engines_are_chosen_by_name_in_the_speech_settings() -> None:
    engines = build_engines(SpeechSettings(stt="instant", tts="instant"))
    assert isinstance(engines.stt, InstantSTT)
    assert isinstance(engines.tts, InstantTTS)
    engines.warm_up()


async def test_every_utterance_is_recognised_as_the_same_sentence() -> None:
    utterance = InstantSTT().utterance(8000, "en-GB", lambda _partial: None)
    utterance.push(b"\x00" * frame_bytes(8000))
    recognition = await utterance.finish()
    assert (recognition.text, recognition.lang) == (INSTANT_TEXT, "en-GB")


@pytest.mark.parametrize("rate", [8000, 16000])
async def test_each_sentence_is_one_second_of_audible_tone_at_the_call_rate(rate: int) -> None:
    tts = InstantTTS()
    voice = tts.resolve(Voice("", "", 1.0))
    chunks = [c async for c in tts.synthesize("Could you tell me the answer 4?", voice, rate)]
    pcm = b"".join(chunks)
    assert len(pcm) == SENTENCE_FRAMES * frame_bytes(rate) == rate * 2
    samples = [int.from_bytes(pcm[i : i + 2], "little", signed=True) for i in range(0, 400, 2)]
    assert max(samples) > 1000  # heard at the phone, not silence
    assert tone_frame(rate)[:2] == pcm[:2] and len(tone_frame(rate)) == frame_bytes(rate)


def test_the_instant_voice_takes_any_voice_name_and_keeps_the_language() -> None:
    assert InstantTTS().resolve(Voice("joe", "fr-FR", 1.1)) == Voice("joe", "fr-FR", 1.1)
