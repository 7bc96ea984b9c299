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
