"""Live-reloaded feature flags.

Flags are read from the ``features`` section of the config file, then from an optional
live source (Azure App Configuration, when ``app_configuration`` names a store; see
:mod:`switchboard.appconfig_flags`), then from the environment — each overriding the one
before — and reloaded every ``feature_reload_sec``. A stored ``false`` or ``0`` is a value
like any other (the reference system treated it as missing). A reload that fails
(validation, or a source that cannot be read) keeps the last good flags and logs why.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from switchboard.appconfig_flags import AppConfigurationFlags, is_configured
from switchboard.config import (
    AppConfigurationSettings,
    ConfigError,
    Features,
    config_path,
    deep_merge,
    env_overrides,
    read_yaml,
)

log = logging.getLogger(__name__)


class FlagSource(Protocol):
    """A live store of flag values beside the config file."""

    def read(self) -> dict[str, Any]:
        """The stored flags by name (blocking; called from a worker thread)."""
        ...


class FeatureFlags:
    """The current flags; ``current`` never blocks and is always a validated set.

    ``source`` is for tests; by default the source is built from the config's
    ``app_configuration`` section (rebuilt when that section changes).
    """

    def __init__(
        self, initial: Features, path: Path | None = None, source: FlagSource | None = None
    ) -> None:
        self._current = initial
        self._path = path
        self._source = source
        self._configured: tuple[AppConfigurationSettings, FlagSource] | None = None

    @property
    def current(self) -> Features:
        return self._current

    def reload(self) -> bool:
        """Re-reads the flags; returns whether they changed. Blocks while a source is read."""
        try:
            flags = self._read()
        except (ConfigError, ValidationError, ImportError) as exc:
            log.warning(
                "feature flags not reloaded, keeping the last good ones", extra={"error": str(exc)}
            )
            return False
        except Exception as exc:
            # A remote store failing in any way (network, auth, throttling) must not end
            # the reload loop: the next period retries.
            log.warning(
                "feature flag source unreadable, keeping the last good flags",
                extra={"error": type(exc).__name__},
            )
            return False
        changed = flags != self._current
        if changed:
            log.info("feature flags changed", extra={"flags": flags.model_dump()})
        self._current = flags
        return changed

    def _read(self) -> Features:
        file_config = read_yaml(self._path or config_path())
        environment = env_overrides(os.environ)
        section: dict[str, Any] = dict(file_config.get("features") or {})
        source = self._source or self._configured_source(deep_merge(file_config, environment))
        if source is not None:
            section = deep_merge(section, source.read())
        section = deep_merge(section, environment.get("features") or {})
        return Features.model_validate(section)

    def _configured_source(self, config: dict[str, Any]) -> FlagSource | None:
        settings = AppConfigurationSettings.model_validate(config.get("app_configuration") or {})
        if not is_configured(settings):
            self._configured = None
            return None
        if self._configured is None or self._configured[0] != settings:
            self._configured = (settings, AppConfigurationFlags(settings))
        return self._configured[1]

    async def watch(self, period_sec: float) -> None:
        """Reloads at once, then forever; run it as a named task owned by the service.

        Each reload runs in a worker thread: a remote source is read with a blocking SDK.
        """
        while True:
            await asyncio.to_thread(self.reload)
            await asyncio.sleep(period_sec)
