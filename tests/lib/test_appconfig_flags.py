"""Feature flags from Azure App Configuration: the real SDK against a loopback fake of
the key-value REST API (HMAC signatures checked), merged between the file and the
environment, refreshed live, a stored ``false`` or ``0`` honoured."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.appconfig_flags import AppConfigurationFlags
from switchboard.config import AppConfigurationSettings, Features
from switchboard.features import FeatureFlags
from tests.lib.appconfig_fake import CREDENTIAL_ID, FakeStore, serve

CONNECTION_ENV = "SWITCHBOARD_APPCONFIG_CONNECTION_STRING"

# requirements-dev.txt pins the SDK, so `make install` has it; a venv installed before
# that pin skips these tests instead of failing on the import.
needs_sdk = pytest.mark.skipif(
    importlib.util.find_spec("azure") is None
    or importlib.util.find_spec("azure.appconfiguration") is None,
    reason="azure-appconfiguration (requirements-dev.txt) is not installed",
)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def connection_string(store: FakeStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in list(Features.model_fields):
        monkeypatch.delenv(f"SWITCHBOARD__FEATURES__{name.upper()}", raising=False)
    with serve(store) as value:
        monkeypatch.setenv(CONNECTION_ENV, value)
        yield value


def _config(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "switchboard.yaml"
    path.write_text(text)
    return path


@needs_sdk
def test_stored_false_and_zero_are_honoured(connection_string: str, store: FakeStore) -> None:
    store.set("slow_llm_for_chat", "false")
    store.set("callback_timeout_hour", "0")
    store.set("recording_enabled", "true")
    flags = AppConfigurationFlags(AppConfigurationSettings()).read()
    assert flags == {
        "slow_llm_for_chat": False,
        "callback_timeout_hour": 0,
        "recording_enabled": True,
    }
    assert store.rejected == 0  # every request carried a valid HMAC signature


@needs_sdk
def test_only_flag_keys_under_the_prefix_and_label_are_read(
    connection_string: str, store: FakeStore
) -> None:
    store.set("switchboard:vad_threshold", "0.7", label="prod")
    store.set("switchboard:vad_threshold", "0.2")  # no label: another environment's
    store.set("switchboard:database_url", "not a flag", label="prod")
    store.set("vad_threshold", "0.9", label="prod")  # outside the prefix
    settings = AppConfigurationSettings(key_prefix="switchboard:", label="prod")
    assert AppConfigurationFlags(settings).read() == {"vad_threshold": 0.7}
    [request] = store.requests
    assert "key=switchboard%3A%2A" in request and "label=prod" in request


@needs_sdk
def test_app_configuration_overrides_the_file_and_the_environment_overrides_both(
    connection_string: str, store: FakeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(
        tmp_path, "features:\n  answer_soft_timeout_sec: 3\n  recognition_retry_max: 5\n"
    )
    store.set("answer_soft_timeout_sec", "6")
    store.set("recognition_retry_max", "2")
    monkeypatch.setenv("SWITCHBOARD__FEATURES__RECOGNITION_RETRY_MAX", "4")
    flags = FeatureFlags(Features(), path)
    assert flags.reload() is True
    assert flags.current.answer_soft_timeout_sec == 6
    assert flags.current.recognition_retry_max == 4


@needs_sdk
def test_a_changed_store_value_is_picked_up_on_the_next_reload(
    connection_string: str, store: FakeStore, tmp_path: Path
) -> None:
    flags = FeatureFlags(Features(), _config(tmp_path))
    store.set("slow_llm_for_chat", "true")
    assert flags.reload() is True and flags.current.slow_llm_for_chat is True
    store.set("slow_llm_for_chat", "false")
    assert flags.reload() is True and flags.current.slow_llm_for_chat is False
    assert flags.reload() is False
    assert len(store.requests) == 3


@needs_sdk
async def test_watching_reads_the_store_at_once_then_every_period(
    connection_string: str, store: FakeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.set("phone_silence_timeout_sec", "11")
    flags = FeatureFlags(Features(), _config(tmp_path))
    periods: list[float] = []

    async def one_period_then_stop(seconds: float) -> None:
        periods.append(seconds)
        raise _Stop

    monkeypatch.setattr("switchboard.features.asyncio.sleep", one_period_then_stop)
    with pytest.raises(_Stop):
        await flags.watch(60)
    assert flags.current.phone_silence_timeout_sec == 11
    assert periods == [60]


class _Stop(Exception):
    pass


@needs_sdk
def test_an_unreachable_store_keeps_the_last_good_flags(
    connection_string: str, store: FakeStore, tmp_path: Path
) -> None:
    flags = FeatureFlags(Features(), _config(tmp_path))
    store.set("vad_cutoff_timeout_ms", "400")
    assert flags.reload() is True
    store.failing = True
    assert flags.reload() is False
    assert flags.current.vad_cutoff_timeout_ms == 400


@needs_sdk
def test_a_stored_value_out_of_range_keeps_the_last_good_flags(
    connection_string: str, store: FakeStore, tmp_path: Path
) -> None:
    flags = FeatureFlags(Features(), _config(tmp_path))
    store.set("vad_threshold", "0.4")
    assert flags.reload() is True
    store.set("vad_threshold", "7")
    assert flags.reload() is False
    assert flags.current.vad_threshold == 0.4


@needs_sdk
def test_a_wrong_secret_is_refused_by_the_signature_check(
    connection_string: str, store: FakeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = connection_string.replace(connection_string.rsplit("Secret=", 1)[1], "d3Jvbmc=")
    monkeypatch.setenv(CONNECTION_ENV, wrong)
    store.set("recording_enabled", "true")
    flags = FeatureFlags(Features(), _config(tmp_path))
    assert flags.reload() is False
    assert store.rejected >= 1 and flags.current.recording_enabled is False


@needs_sdk
def test_the_store_is_configured_from_the_config_file(
    store: FakeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(store) as connection_string:
        monkeypatch.setenv("SB_TEST_APPCONFIG", connection_string)
        monkeypatch.delenv(CONNECTION_ENV, raising=False)
        path = _config(tmp_path, "app_configuration:\n  connection_string_env: SB_TEST_APPCONFIG\n")
        store.set("answer_hard_timeout_sec", "12")
        flags = FeatureFlags(Features(), path)
        assert flags.reload() is True
        assert flags.current.answer_hard_timeout_sec == 12
    assert CREDENTIAL_ID in connection_string


def test_without_a_store_no_request_is_made(
    store: FakeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONNECTION_ENV, raising=False)
    flags = FeatureFlags(Features(), _config(tmp_path, "features:\n  vad_threshold: 0.3\n"))
    assert flags.reload() is True and flags.current.vad_threshold == 0.3
    assert store.requests == []


def test_without_the_sdk_the_error_names_the_requirements_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "azure.appconfiguration", None)
    monkeypatch.setenv(CONNECTION_ENV, "Endpoint=http://127.0.0.1:1;Id=a;Secret=YQ==")
    with pytest.raises(ImportError, match=r"requirements-azure\.txt"):
        AppConfigurationFlags(AppConfigurationSettings())
