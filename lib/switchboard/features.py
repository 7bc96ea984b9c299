"""Live-reloaded feature flags.

Flags are read from the ``features`` section of the config file and the
environment, and reloaded every ``feature_reload_sec``. A stored ``false`` or
``0`` is a value like any other (the reference system treated it as missing).
A reload that fails validation keeps the last good flags and logs why.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from pydantic import ValidationError

from switchboard.config import ConfigError, Features, raw_config

log = logging.getLogger(__name__)


class FeatureFlags:
    """The current flags; ``current`` never blocks and is always a validated set."""

    def __init__(self, initial: Features, path: Path | None = None) -> None:
        self._current = initial
        self._path = path

    @property
    def current(self) -> Features:
        return self._current

    def reload(self) -> bool:
        """Re-reads the flags; returns whether they changed."""
        try:
            section = raw_config(self._path, os.environ).get("features", {})
            flags = Features.model_validate(section)
        except (ConfigError, ValidationError) as exc:
            log.warning(
                "feature flags not reloaded, keeping the last good ones", extra={"error": str(exc)}
            )
            return False
        changed = flags != self._current
        if changed:
            log.info("feature flags changed", extra={"flags": flags.model_dump()})
        self._current = flags
        return changed

    async def watch(self, period_sec: float) -> None:
        """Reloads forever; run it as a named task owned by the service."""
        while True:
            await asyncio.sleep(period_sec)
            self.reload()
