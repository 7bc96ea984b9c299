"""Running a service: a grpc.aio server with health, reflection, internal auth and
graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from switchboard import telemetry
from switchboard.internal_auth import internal_auth

log = logging.getLogger(__name__)

# Streams get this long to finish after SIGTERM before they are cancelled.
SHUTDOWN_GRACE_SEC = 5.0
MAX_CONNECTION_AGE_MS = 120_000

Registrar = Callable[[grpc.aio.Server], None]


class GrpcService:
    """One gRPC server process: servicers, health, reflection, lifecycle.

    Internal auth (:mod:`switchboard.internal_auth`) is applied here, for every service:
    TLS requiring a client certificate and/or the token check (health and reflection
    need no token). With ``health_port`` set, a second, plaintext listener serves the
    health service alone, for probes that cannot present a certificate.

    On shutdown, ``on_shutdown`` callbacks run first (end open streams so they
    finish with OK), then the server stops accepting calls and waits out the
    grace period, then ``on_stop`` callbacks run in registration order (close
    the database last).
    """

    def __init__(self, name: str, address: str, service_names: Sequence[str]) -> None:
        self.name = name
        self.address = address
        # Telemetry and internal auth (when on) must be configured before: the interceptors
        # are fixed here. The token check first: a refused call goes no further.
        self._auth = internal_auth()
        self.server = grpc.aio.server(
            interceptors=[*self._auth.server_interceptors(), *telemetry.server_interceptors()],
            options=[
                ("grpc.max_receive_message_length", 8 * 1024 * 1024),
                ("grpc.keepalive_time_ms", 20_000),
                ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
                # Clients reconnect now and then and so resolve the service's name again:
                # a replica added since gets its share of calls (round_robin). Open
                # streams are not cut: the grace after the GOAWAY is unbounded.
                ("grpc.max_connection_age_ms", MAX_CONNECTION_AGE_MS),
            ],
        )
        self.health = health.aio.HealthServicer()
        self._service_names = list(service_names)
        self._on_shutdown: list[Callable[[], Awaitable[None] | None]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self.port = 0
        self._health_server: grpc.aio.Server | None = None
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [*self._service_names, reflection.SERVICE_NAME, health.SERVICE_NAME], self.server
        )

    def on_shutdown(self, callback: Callable[[], Awaitable[None] | None]) -> None:
        """Runs when shutdown starts, before the grace period: end long-lived streams here.

        The callback may be a plain function or a coroutine function.
        """
        self._on_shutdown.append(callback)

    def on_stop(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Runs after the server stopped: close clients and databases here."""
        self._on_stop.append(callback)

    async def start(self) -> int:
        credentials = self._auth.server_credentials()
        if credentials is None:
            self.port = self.server.add_insecure_port(self.address)
        else:
            self.port = self.server.add_secure_port(self.address, credentials)
        if self.port == 0:
            raise OSError(f"{self.name}: cannot listen on {self.address}")
        if self._auth.health_port:
            await self._start_health_listener(self._auth.health_port)
        await self.server.start()
        await self.set_serving(True)
        log.info(
            "service listening",
            extra={
                "address": self.address,
                "port": self.port,
                "tls": credentials is not None,
                "token": bool(self._auth.tokens),
            },
        )
        return self.port

    async def _start_health_listener(self, port: int) -> None:
        host = self.address.rsplit(":", 1)[0]
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        if server.add_insecure_port(f"{host}:{port}") == 0:
            raise OSError(f"{self.name}: cannot listen on {host}:{port} for health checks")
        await server.start()
        self._health_server = server

    async def set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", *self._service_names]:
            await self.health.set(name, status)

    async def stop(self, grace: float = SHUTDOWN_GRACE_SEC) -> None:
        await self.set_serving(False)
        for notify in self._on_shutdown:
            try:
                pending = notify()
                if pending is not None:
                    await pending
            except Exception:
                log.exception("shutdown notification failed")
        await self.server.stop(grace)
        if self._health_server is not None:
            await self._health_server.stop(0)
        for callback in self._on_stop:
            try:
                await callback()
            except Exception:
                log.exception("shutdown step failed")
        log.info("service stopped")

    async def run_until_signalled(self) -> None:
        """Serves until SIGTERM or SIGINT, then shuts down gracefully."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        await stop.wait()
        log.info("shutting down", extra={"grace_sec": SHUTDOWN_GRACE_SEC})
        await self.stop()
