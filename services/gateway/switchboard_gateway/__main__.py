"""``python -m switchboard_gateway``: load settings, configure logs, serve until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys

import uvicorn

from switchboard.blobs import create_blob_store
from switchboard.config import ConfigError, Settings, load_settings
from switchboard.internal_auth import configure_internal_auth
from switchboard.logs import configure_logging
from switchboard.private_files import restrict_new_files
from switchboard.service_main import GIL_SWITCH_INTERVAL_SEC
from switchboard.telemetry import configure_telemetry, shutdown_telemetry
from switchboard_gateway.app import create_app
from switchboard_gateway.carrier_grpc import GrpcCarrierLink
from switchboard_gateway.grpc_backend import GrpcCallBackend, GrpcWebhookJobs
from switchboard_gateway.header_timeout import with_header_timeout
from switchboard_gateway.middleware import QuietWebSockets
from switchboard_gateway.phone_grpc import GrpcPhoneExchange
from switchboard_gateway.webhook_delivery import WebhookDispatcher

log = logging.getLogger("switchboard_gateway")

SHUTDOWN_GRACE_SEC = 10
WS_MAX_BYTES = 64 * 1024


async def serve(settings: Settings) -> None:
    """Serves until SIGTERM or SIGINT (uvicorn handles both and drains requests)."""
    # gRPC aio channels belong to the running loop, so the backend is built here.
    logging.getLogger("uvicorn.error").addFilter(QuietWebSockets())
    backend = GrpcCallBackend(settings.services)
    hooks = settings.gateway.webhooks
    webhooks = (
        WebhookDispatcher(
            GrpcWebhookJobs(settings.services.store),
            settings.gateway.api_keys,
            hooks,
            worker_id=f"gateway-{socket.gethostname()}-{os.getpid()}",
            public_url=settings.gateway.public_url,
        )
        if hooks.worker
        else None
    )
    app = create_app(
        settings,
        backend,
        GrpcPhoneExchange(settings.services),
        carriers=GrpcCarrierLink(settings.services.dialer),
        webhooks=webhooks,
        recordings=create_blob_store(settings.recording),
    )
    config = uvicorn.Config(
        app,
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_config=None,  # keep the structured handlers configure_logging installed
        access_log=False,  # AccessLog logs route templates, never query strings
        server_header=False,
        # h11 with a deadline on request headers (uvicorn has none of its own).
        http=with_header_timeout(settings.gateway.header_timeout_sec),
        # The softphone sends 640-byte frames and short JSON; refuse big messages unread.
        ws_max_size=WS_MAX_BYTES,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SEC,
    )
    if not settings.gateway.api_keys:
        log.warning("no API keys configured: every request but /health/* will be refused")
    log.info(
        "gateway listening",
        extra={"host": settings.gateway.host, "port": settings.gateway.port},
    )
    await uvicorn.Server(config).serve()


def _flush_then_terminate(signum: int, frame: object) -> None:
    """uvicorn re-raises SIGTERM once it has drained, which ends the process before any
    ``finally``: export what telemetry holds first, then terminate as before."""
    shutdown_telemetry()
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)


def main() -> None:
    restrict_new_files()
    try:
        settings = load_settings()
        configure_internal_auth(settings.internal_auth)  # before the gRPC channels
    except ConfigError as exc:
        raise SystemExit(f"gateway: {exc}") from exc
    configure_logging(
        "gateway",
        settings.logging.level,
        settings.logging.format,
        settings.logging.include_personal_data,
    )
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SEC)
    # Before the gRPC channels: they take its interceptors.
    if configure_telemetry("gateway"):
        signal.signal(signal.SIGTERM, _flush_then_terminate)
    try:
        asyncio.run(serve(settings))
    finally:
        shutdown_telemetry()


if __name__ == "__main__":
    main()
