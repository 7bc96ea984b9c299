"""Providers are chosen by name from settings.speech through the shared registry."""

from __future__ import annotations

import importlib

import pytest

from switchboard.config import ConfigError, SpeechSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_speech.engines import STT, TTS, VAD, build_engines
from switchboard_speech.vad.webrtc import WebRtcVad, aggressiveness

MISSING = Vendor("no_such_vendor_sdk.module:Engine", extra="requirements-azure.txt")


def test_an_unknown_provider_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"speech.stt: .*choose one of azure, instant, local"):
        build_engines(SpeechSettings(stt="whisperx"))


def test_the_vad_is_picked_by_name() -> None:
    assert isinstance(create(VAD, "webrtc"), WebRtcVad)


@pytest.mark.parametrize("seam", [VAD, STT, TTS], ids=lambda seam: seam.key)
def test_every_registered_name_resolves_to_a_class_of_its_seam(seam: Seam[object]) -> None:
    for name in seam.choices:
        module_name, _, class_name = seam.vendor(name).target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # an optional SDK that is not installed here
        assert issubclass(getattr(module, class_name), seam.base), name


@pytest.mark.parametrize("seam", [VAD, STT, TTS], ids=lambda seam: seam.key)
def test_every_speech_seam_lists_its_choices_for_an_unknown_name(seam: Seam[object]) -> None:
    with pytest.raises(ConfigError, match=f"{seam.key}: unknown provider 'nope'; choose one of "):
        create(seam, "nope")


@pytest.mark.parametrize("seam", [VAD, STT, TTS], ids=lambda seam: seam.key)
def test_a_speech_provider_without_its_sdk_names_the_extra(seam: Seam[object]) -> None:
    with pytest.raises(ConfigError, match=r"no_such_vendor_sdk.*pip install -r requirements-azure"):
        create(seam.adding("ghost", MISSING), "ghost")


def test_the_azure_providers_without_the_azure_sdk_name_its_requirements_file() -> None:
    pytest.importorskip("switchboard_speech.azure_sdk")
    try:
        import azure.cognitiveservices.speech  # type: ignore[import-not-found,import-untyped,unused-ignore]  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"requirements-azure.txt"):
            create(STT, "azure")
    else:
        pytest.skip("the azure speech SDK is installed here")


@pytest.mark.parametrize(("threshold", "mode"), [(0.1, 0), (0.4, 1), (0.5, 2), (0.9, 3), (1.0, 3)])
def test_vad_threshold_maps_to_webrtc_aggressiveness(threshold: float, mode: int) -> None:
    assert aggressiveness(threshold) == mode
