"""In-process gRPC servers for tests of clients and servicers over real gRPC."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import grpc

from switchboard.server import GrpcService


@contextlib.asynccontextmanager
async def serving(
    service: str, add_servicers: Callable[[grpc.aio.Server], None]
) -> AsyncIterator[str]:
    """A :class:`~switchboard.server.GrpcService` (health and reflection included) on a
    free loopback port, with the servicers ``add_servicers`` puts on it; yields its
    address and stops it, without grace, on exit. ``service``: e.g. ``"switchboard.v1.Dialer"``."""
    server = GrpcService(service.rsplit(".", 1)[-1].lower(), "127.0.0.1:0", [service])
    add_servicers(server.server)
    port = await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)
