"""Providers are chosen by name from settings.speech through one registry."""

from __future__ import annotations

import pytest

from switchboard.config import ConfigError, SpeechSettings
from switchboard_speech.engines import VAD_PROVIDERS, build_engines, load_provider
from switchboard_speech.vad.base import VoiceActivityDetector
from switchboard_speech.vad.webrtc import WebRtcVad, aggressiveness


def test_an_unknown_provider_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="choose one of azure, local"):
        build_engines(SpeechSettings(stt="whisperx"))


def test_the_vad_is_picked_by_name() -> None:
    assert isinstance(
        load_provider("vad", "webrtc", VAD_PROVIDERS, VoiceActivityDetector), WebRtcVad
    )


@pytest.mark.parametrize(("threshold", "mode"), [(0.1, 0), (0.4, 1), (0.5, 2), (0.9, 3), (1.0, 3)])
def test_vad_threshold_maps_to_webrtc_aggressiveness(threshold: float, mode: int) -> None:
    assert aggressiveness(threshold) == mode
