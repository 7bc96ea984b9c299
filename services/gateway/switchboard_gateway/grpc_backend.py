"""The production :class:`CallBackend`: the dialer places calls, the store answers reads."""

from __future__ import annotations

import asyncio
import logging

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from switchboard.channels import open_channel
from switchboard.config import ServiceAddresses
from switchboard.domain import Call, CallRequest
from switchboard.store_client import StoreClient
from switchboard_gateway.backend import DEPENDENCIES, ServiceCheck
from switchboard_gateway.dialer_client import DialerClient

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_SEC = 1.0


async def check_health(service: str, channel: grpc.aio.Channel, timeout_sec: float) -> bool:
    """True when the server behind ``channel`` reports SERVING (grpc.health.v1, whole server)."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout_sec)
    except grpc.aio.AioRpcError as exc:
        log.warning("health check failed", extra={"dependency": service, "code": exc.code().name})
        return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


class GrpcCallBackend:
    """Talks to the dialer and the store over gRPC; create it inside the running event loop."""

    def __init__(
        self, services: ServiceAddresses, health_timeout_sec: float = HEALTH_TIMEOUT_SEC
    ) -> None:
        self._dialer = DialerClient(services.dialer)
        self._store = StoreClient(services.store)
        # Speech and brain are only probed; their channels exist for readiness alone.
        self._probe_only = {
            "speech": open_channel(services.speech),
            "brain": open_channel(services.brain),
        }
        self._health_timeout = health_timeout_sec

    async def place_call(self, request: CallRequest) -> Call:
        return await self._dialer.place_call(request)

    async def get_call(self, call_id: str) -> Call:
        return await self._store.get_call(call_id)

    async def list_calls(self, phone_number: str = "", limit: int = 100) -> tuple[list[Call], int]:
        return await self._store.list_calls(phone_number, limit)

    async def readiness(self) -> list[ServiceCheck]:
        channels = {
            "dialer": self._dialer.channel,
            "store": self._store.channel,
            **self._probe_only,
        }
        results = await asyncio.gather(
            *(check_health(name, channels[name], self._health_timeout) for name in DEPENDENCIES)
        )
        return [ServiceCheck(name, ok) for name, ok in zip(DEPENDENCIES, results, strict=True)]

    async def close(self) -> None:
        await self._dialer.close()
        await self._store.close()
        for channel in self._probe_only.values():
            await channel.close()
