"""The ``redis:`` section: off by default, and never a password in the URL."""

from __future__ import annotations

import pytest

from switchboard.config import ConfigError, load_settings
from switchboard.redis_link import RedisNames


def test_redis_is_off_by_default_so_one_process_keeps_everything_in_process() -> None:
    settings = load_settings(environ={"SWITCHBOARD_CONFIG": "/nonexistent.yaml"})
    assert settings.redis.enabled is False


def test_a_password_in_the_redis_url_is_refused_at_startup() -> None:
    with pytest.raises(ConfigError, match="SWITCHBOARD__REDIS__PASSWORD"):
        load_settings(
            environ={"SWITCHBOARD__REDIS__URL": "redis://:secret@127.0.0.1:6379/0"},
        )


def test_every_name_lives_under_the_configured_prefix() -> None:
    settings = load_settings(
        environ={"SWITCHBOARD__REDIS__KEY_PREFIX": "acme.", "SWITCHBOARD__REDIS__ENABLED": "true"}
    )
    names = RedisNames.from_settings(settings.redis)
    assert settings.redis.enabled is True
    assert names.events == "acme.call-events"
    assert names.stream("post_call") == "acme.jobs:post_call"
    assert names.dead_letters == "acme.jobs-dead"
    assert names.live_call("c1") == "acme.live-call:c1"
