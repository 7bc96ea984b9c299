"""The common entry point of a service process: config, logging, flags, server, signals."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable

from switchboard.config import ConfigError, Settings, config_path, load_settings
from switchboard.features import FeatureFlags
from switchboard.grpc_targets import listen_address
from switchboard.internal_auth import configure_internal_auth
from switchboard.logs import configure_logging
from switchboard.private_files import restrict_new_files
from switchboard.server import GrpcService
from switchboard.telemetry import configure_telemetry, shutdown_telemetry

log = logging.getLogger(__name__)

# How often CPython lets another thread take the GIL (default 5 ms). A service hands
# every request between its event loop, gRPC's poller thread and its worker threads
# (SQLite, models); each handoff could wait a whole interval. 0.5 ms cut the text-mode
# turn through the five services from 12-13 ms to 10 ms p50 (bench/turn_overhead.py).
GIL_SWITCH_INTERVAL_SEC = 0.0005

# Where the server listens, when it differs from the address clients use
# (``0.0.0.0:50054`` in a container).
LISTEN_ENV = "SWITCHBOARD_LISTEN_ADDRESS"

Setup = Callable[[GrpcService, Settings, FeatureFlags], Awaitable[None]]


async def serve(name: str, service_names: list[str], settings: Settings, setup: Setup) -> None:
    """Builds the server, lets ``setup`` add servicers and stop hooks, serves until signalled."""
    target = getattr(settings.services, name)
    address = os.environ.get(LISTEN_ENV) or listen_address(target)
    if address is None:
        raise ConfigError(
            f"services.{name} names other processes too ({target}); "
            f"set {LISTEN_ENV} to the address this one listens on"
        )
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
    restrict_new_files()  # whatever the service writes (database, recordings) is private
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
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SEC)
    configure_telemetry(name)  # before the server and channels: they take its interceptors
    try:
        configure_internal_auth(settings.internal_auth)  # the same: credentials, token
        asyncio.run(serve(name, service_names, settings, setup))
    except ConfigError as exc:
        raise SystemExit(f"{name}: {exc}") from exc
    finally:
        shutdown_telemetry()
