"""The common entry point of a service process: config, logging, flags, server, signals."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable

from switchboard.config import ConfigError, Settings, config_path, load_settings
from switchboard.features import FeatureFlags
from switchboard.logs import configure_logging
from switchboard.server import GrpcService

log = logging.getLogger(__name__)

# Where the server listens, when it differs from the address clients use
# (``0.0.0.0:50054`` in a container).
LISTEN_ENV = "SWITCHBOARD_LISTEN_ADDRESS"

Setup = Callable[[GrpcService, Settings, FeatureFlags], Awaitable[None]]


async def serve(name: str, service_names: list[str], settings: Settings, setup: Setup) -> None:
    """Builds the server, lets ``setup`` add servicers and stop hooks, serves until signalled."""
    address = os.environ.get(LISTEN_ENV) or getattr(settings.services, name)
    service = GrpcService(name, address, service_names)
    flags = FeatureFlags(settings.features, config_path())
    await setup(service, settings, flags)
    watcher = asyncio.create_task(flags.watch(settings.feature_reload_sec), name=f"{name}-flags")
    try:
        await service.run_until_signalled()
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


def main(name: str, service_names: list[str], setup: Setup) -> None:
    """``python -m switchboard_<name>``: exits with a readable message on a bad config."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise SystemExit(f"{name}: {exc}") from exc
    configure_logging(
        name,
        settings.logging.level,
        settings.logging.format,
        settings.logging.include_personal_data,
    )
    asyncio.run(serve(name, service_names, settings, setup))
