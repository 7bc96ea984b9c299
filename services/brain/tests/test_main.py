"""The entry point's small pieces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.config import load_settings
from switchboard_brain.__main__ import fixed_now


def test_an_unquoted_fixed_now_in_the_environment_still_loads_as_a_string() -> None:
    environ = {"SWITCHBOARD__BRAIN__FIXED_NOW": "2026-11-24T15:00:00+00:00"}

    settings = load_settings(environ=environ)

    assert fixed_now(settings.brain.fixed_now) == datetime(2026, 11, 24, 15, tzinfo=UTC)


def test_a_fixed_now_without_an_offset_is_taken_as_utc() -> None:
    assert fixed_now("2026-11-24T15:00:00") == datetime(2026, 11, 24, 15, tzinfo=UTC)
    assert fixed_now("") is None


def test_a_malformed_fixed_now_stops_the_service_with_a_readable_message() -> None:
    with pytest.raises(SystemExit, match="fixed_now must be ISO 8601"):
        fixed_now("next tuesday")


class _Service:
    def __init__(self) -> None:
        self.stops: list[object] = []

    def on_stop(self, callback: object) -> None:
        self.stops.append(callback)


def test_llm_without_endpoint_or_model_runs_the_form_policy_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from switchboard_brain.__main__ import choose_policy

    settings = load_settings(environ={"SWITCHBOARD__BRAIN__POLICY": "llm"})
    policy, _ = choose_policy(settings, _Service())  # type: ignore[arg-type]
    assert policy.name == "form"
    assert "running the form policy" in caplog.text


def test_llm_with_endpoint_key_and_model_runs_the_llm_policy() -> None:
    from switchboard_brain.__main__ import choose_policy

    settings = load_settings(
        environ={
            "SWITCHBOARD__BRAIN__POLICY": "llm",
            "SWITCHBOARD__BRAIN__LLM__ENDPOINT": "http://127.0.0.1:9/v1",
            "SWITCHBOARD__BRAIN__LLM__FAST_MODEL": "small",
            "SWITCHBOARD__BRAIN__LLM__SLOW_MODEL": "large",
        }
    )
    service = _Service()
    policy, summarizer = choose_policy(settings, service)  # type: ignore[arg-type]
    assert policy.name == "llm"
    assert type(summarizer).__name__ == "LlmSummarizer"
    assert len(service.stops) == 2  # both models' connections are closed at stop
