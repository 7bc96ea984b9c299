"""The Azure provider up to the SDK boundary; a contract test when credentials are set."""

from __future__ import annotations

import importlib.util
import os
import xml.etree.ElementTree as ET

import pytest

from switchboard.config import ConfigError
from switchboard.errors import InvalidArgument
from switchboard_speech.azure_sdk import AzureCredentials, import_sdk
from switchboard_speech.stt.azure import (
    confidence_from_json,
    join_segments,
    segment_from_event,
)
from switchboard_speech.tts.azure import build_ssml, rate_percent, resolve_voice
from switchboard_speech.tts.base import Voice


def _sdk_installed() -> bool:
    try:
        return importlib.util.find_spec("azure.cognitiveservices.speech") is not None
    except ModuleNotFoundError:
        return False


SDK_INSTALLED = _sdk_installed()
HAS_CREDENTIALS = bool(os.environ.get("AZURE_SPEECH_KEY") and os.environ.get("AZURE_SPEECH_REGION"))
NS = {"s": "http://www.w3.org/2001/10/synthesis", "mstts": "https://www.w3.org/2001/mstts"}


@pytest.mark.parametrize(("rate", "percent"), [(1.0, "+0%"), (0.75, "-25%"), (1.25, "+25%")])
def test_prosody_rate_becomes_an_ssml_percentage(rate: float, percent: str) -> None:
    assert rate_percent(rate) == percent


def test_ssml_carries_voice_language_rate_and_style_and_escapes_the_text() -> None:
    ssml = build_ssml('Tom & Jerry <said> "hi"', Voice("en-US-JennyNeural:cheerful", "en-US", 1.1))
    root = ET.fromstring(ssml)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    voice = root.find("s:voice", NS)
    assert voice is not None and voice.get("name") == "en-US-JennyNeural"
    style = voice.find("mstts:express-as", NS)
    assert style is not None and style.get("style") == "cheerful"
    prosody = style.find("s:prosody", NS)
    assert prosody is not None and prosody.get("rate") == "+10%"
    assert prosody.text == 'Tom & Jerry <said> "hi"'


def test_ssml_without_a_style_has_no_express_as() -> None:
    assert "express-as" not in build_ssml("Hello.", Voice("fr-FR-DeniseNeural", "fr-FR", 1.0))


def test_an_empty_voice_takes_the_language_default() -> None:
    assert resolve_voice(Voice("", "fr-FR", 1.0)).name == "fr-FR-DeniseNeural"


@pytest.mark.parametrize("name", ["joe", "en-US-Jenny", "en-US-JennyNeural:Bad Style!"])
def test_a_voice_that_is_not_an_azure_voice_is_refused(name: str) -> None:
    with pytest.raises(InvalidArgument):
        resolve_voice(Voice(name, "en-US", 1.0))


def test_recognized_events_become_segments_and_no_match_is_skipped() -> None:
    detailed = '{"NBest": [{"Confidence": 0.87, "Display": "Hello."}]}'
    assert segment_from_event("RecognizedSpeech", " Hello. ", detailed) == ("Hello.", 0.87)
    assert segment_from_event("NoMatch", "", None) is None
    assert segment_from_event("RecognizedSpeech", "  ", detailed) is None


def test_unreadable_detail_json_means_zero_confidence() -> None:
    assert confidence_from_json("not json") == 0.0
    assert confidence_from_json('{"NBest": []}') == 0.0


def test_segments_join_into_one_final_with_mean_confidence() -> None:
    result = join_segments([("My name is Anna.", 0.9), ("I live in Paris.", 0.7)], "en-US")
    assert result.text == "My name is Anna. I live in Paris."
    assert result.confidence == pytest.approx(0.8)
    assert join_segments([], "en-US").text == ""


def test_missing_credentials_are_named() -> None:
    with pytest.raises(ConfigError, match="AZURE_SPEECH_KEY and AZURE_SPEECH_REGION"):
        AzureCredentials.from_env({})


@pytest.mark.skipif(SDK_INSTALLED, reason="the Azure SDK is installed here")
def test_a_missing_sdk_names_the_extra_to_install() -> None:
    with pytest.raises(ImportError, match=r"requirements-azure\.txt"):
        import_sdk()


@pytest.mark.skipif(
    not (SDK_INSTALLED and HAS_CREDENTIALS),
    reason="needs azure-cognitiveservices-speech and AZURE_SPEECH_KEY/AZURE_SPEECH_REGION",
)
async def test_azure_speaks_and_hears_a_sentence_contract() -> None:
    from switchboard_speech.stt.azure import AzureSTT
    from switchboard_speech.tts.azure import AzureTTS

    tts, stt = AzureTTS(), AzureSTT()
    voice = tts.resolve(Voice("", "en-US", 1.0))
    pcm = b"".join([chunk async for chunk in tts.synthesize("My name is Anna.", voice, 16000)])
    assert len(pcm) > 16000
    partials: list[str] = []
    utterance = stt.utterance(16000, "en-US", lambda r: partials.append(r.text))
    for start in range(0, len(pcm), 640):
        utterance.push(pcm[start : start + 640])
    utterance.push(b"\x00" * 32000)
    result = await utterance.finish()
    assert "anna" in result.text.lower()
