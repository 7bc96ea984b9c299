"""Voices a request names (``lang.availables``): the local engines use the ones they have."""

from __future__ import annotations

import shutil

import pytest

from switchboard.errors import InvalidArgument
from switchboard.speech import SpeakConfig, SpeakResponse, SpeakSettings
from switchboard_speech.outbox import Outbox
from switchboard_speech.speak import SpeakSession
from switchboard_speech.tts.base import Voice
from switchboard_speech.tts.espeak import EspeakTTS

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


@pytest.mark.parametrize(
    ("named", "used"),
    [
        ("", "espeak:fr-fr"),  # the language's default
        ("fr-fr+f3", "espeak:fr+f3"),  # a female variant (espeak-ng names it by file)
        ("fr-be+f3", "espeak:fr-be+f3"),
        ("espeak:fr-be", "espeak:fr-be"),
        ("FR-FR", "espeak:fr-fr"),
    ],
)
def test_espeak_uses_a_voice_it_has_for_the_language(named: str, used: str) -> None:
    assert EspeakTTS().resolve(Voice(named, "fr-FR")) == Voice(used, "fr-FR")


@pytest.mark.parametrize("named", ["fr-FR-DeniseNeural", "de", "fr-fr+nobody", "fr-zz"])
def test_espeak_refuses_a_voice_it_does_not_have_for_the_language(named: str) -> None:
    with pytest.raises(InvalidArgument, match="espeak-ng has no voice"):
        EspeakTTS().resolve(Voice(named, "fr-FR"))


async def test_the_named_espeak_voice_is_the_one_that_speaks() -> None:
    tts = EspeakTTS()
    default = await tts.render("Bonjour.", tts.resolve(Voice("", "fr-FR")), 8000)
    female = await tts.render("Bonjour.", tts.resolve(Voice("fr-fr+f3", "fr-FR")), 8000)
    assert default and female and default != female


@pytest.fixture(scope="module")
def local() -> object:
    pytest.importorskip("piper")
    from switchboard_speech.tts.local import LocalTTS

    tts = LocalTTS(threads=1)
    yield tts
    tts.close()


def test_the_local_voice_takes_the_languages_default_for_a_voice_it_lacks(local: object) -> None:
    from switchboard_speech.tts.local import LocalTTS

    assert isinstance(local, LocalTTS)
    assert local.resolve(Voice("fr-FR-DeniseNeural", "fr-FR")) == Voice("espeak:fr-fr", "fr-FR")
    assert local.resolve(Voice("en-US-AvaNeural", "en-US")).name == "en_US-joe-medium"
    assert local.resolve(Voice("fr-fr+f3", "fr-FR")).name == "espeak:fr+f3"
    # A Speak stream switched to French with a voice named for it speaks with that voice.
    outbox: Outbox[SpeakResponse] = Outbox(100)
    session = SpeakSession(SpeakConfig("call-1", 8000, "joe", "en-US", 1.0), local, outbox)
    session.configure(SpeakSettings(voice="fr-fr+f3", lang="fr-FR"))
    assert session.voice == Voice("espeak:fr+f3", "fr-FR", 1.0)
