from pathlib import Path

import pytest

from switchboard.config import ConfigError, load_settings
from switchboard.features import FeatureFlags


def test_defaults_match_the_reference_system_when_there_is_no_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.yaml", environ={})
    flags = settings.features
    assert (flags.answer_hard_timeout_sec, flags.answer_soft_timeout_sec) == (15, 4)
    assert (flags.vad_silence_timeout_ms, flags.vad_cutoff_timeout_ms) == (500, 250)
    assert flags.callback_timeout_hour == 3
    assert flags.recognition_retry_max == 3
    assert flags.slow_llm_for_chat is False


def test_environment_overrides_the_file_section_by_section(tmp_path: Path) -> None:
    path = tmp_path / "switchboard.yaml"
    path.write_text("gateway:\n  port: 9000\n  host: 0.0.0.0\n")
    settings = load_settings(path, environ={"SWITCHBOARD__GATEWAY__PORT": "9100"})
    assert settings.gateway.port == 9100
    assert settings.gateway.host == "0.0.0.0"


def test_a_stored_false_or_zero_is_honoured_not_replaced_by_the_default(tmp_path: Path) -> None:
    path = tmp_path / "switchboard.yaml"
    path.write_text("features:\n  callback_timeout_hour: 0\n  recording_enabled: false\n")
    settings = load_settings(path, environ={"SWITCHBOARD__FEATURES__SLOW_LLM_FOR_CHAT": "false"})
    assert settings.features.callback_timeout_hour == 0
    assert settings.features.slow_llm_for_chat is False


def test_list_values_come_from_the_environment_as_flow_yaml() -> None:
    settings = load_settings(
        Path("/nonexistent"), environ={"SWITCHBOARD__GATEWAY__API_KEYS": "[a, b]"}
    )
    assert settings.gateway.api_keys == ["a", "b"]


def test_a_typo_in_a_key_is_an_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "switchboard.yaml"
    path.write_text("features:\n  vad_treshold: 0.4\n")
    with pytest.raises(ConfigError, match=r"features\.vad_treshold"):
        load_settings(path, environ={})


def test_an_out_of_range_flag_is_an_error_naming_the_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"features\.vad_threshold"):
        load_settings(tmp_path / "x.yaml", environ={"SWITCHBOARD__FEATURES__VAD_THRESHOLD": "3"})


def test_flags_reload_live_from_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "switchboard.yaml"
    path.write_text("features:\n  phone_silence_timeout_sec: 20\n")
    monkeypatch.delenv("SWITCHBOARD__FEATURES__PHONE_SILENCE_TIMEOUT_SEC", raising=False)
    flags = FeatureFlags(load_settings(path, environ={}).features, path)
    path.write_text("features:\n  phone_silence_timeout_sec: 7\n  recording_enabled: false\n")
    assert flags.reload() is True
    assert flags.current.phone_silence_timeout_sec == 7


def test_a_broken_reload_keeps_the_last_good_flags(tmp_path: Path) -> None:
    path = tmp_path / "switchboard.yaml"
    path.write_text("features:\n  recognition_retry_max: 2\n")
    flags = FeatureFlags(load_settings(path, environ={}).features, path)
    path.write_text("features:\n  recognition_retry_max: -5\n")
    assert flags.reload() is False
    assert flags.current.recognition_retry_max == 2


def test_a_timestamp_in_the_environment_stays_text() -> None:
    settings = load_settings(
        Path("/nonexistent"), environ={"SWITCHBOARD__BRAIN__FIXED_NOW": "2026-11-24T15:00:00+00:00"}
    )
    assert settings.brain.fixed_now == "2026-11-24T15:00:00+00:00"


def test_phone_numbers_in_the_environment_stay_text_with_their_plus_and_zeros() -> None:
    settings = load_settings(
        Path("/nonexistent"),
        environ={
            "SWITCHBOARD__DIALER__SIP__CALLER_ID": "+14155550100",
            "SWITCHBOARD__DIALER__SIP__USER": "0042",
            "SWITCHBOARD__DIALER__SIP__PORT": "5070",
        },
    )
    assert settings.dialer.sip.caller_id == "+14155550100"
    assert settings.dialer.sip.user == "0042"
    assert settings.dialer.sip.port == 5070


def test_a_phone_number_in_the_file_stays_text_even_unquoted(tmp_path: Path) -> None:
    path = tmp_path / "switchboard.yaml"
    path.write_text("dialer:\n  sip:\n    caller_id: +14155550100\n")
    settings = load_settings(path, environ={})
    assert settings.dialer.sip.caller_id == "+14155550100"
