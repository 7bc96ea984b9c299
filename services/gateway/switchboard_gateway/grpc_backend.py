"""The production :class:`CallBackend`: the dialer places calls, the store answers reads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from switchboard.call_control import CallWebhook, IdempotencyRecord
from switchboard.call_control_client import CallControlStore
from switchboard.call_events import CallEvent
from switchboard.channels import open_channel
from switchboard.config import ServiceAddresses
from switchboard.domain import Call, CallRequest, CallState
from switchboard.jobs import Job
from switchboard.store_client import StoreClient
from switchboard_gateway.backend import DEPENDENCIES, ServiceCheck
from switchboard_gateway.dialer_client import DialerReplicas

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


class GrpcWebhookJobs:
    """The store's job and webhook RPCs for :class:`WebhookDispatcher`, on one channel."""

    def __init__(self, store_address: str) -> None:
        self._store = StoreClient(store_address)
        self._control = CallControlStore(self._store.channel)

    async def claim_job(self, worker: str, kinds: list[str], lease_sec: float) -> Job | None:
        return await self._store.claim_job(worker, kinds, lease_sec)

    async def complete_job(self, job_id: str, lease_token: str) -> Job:
        return await self._store.complete_job(job_id, lease_token)

    async def fail_job(self, job_id: str, lease_token: str, error: str) -> Job:
        return await self._store.fail_job(job_id, lease_token, error)

    async def get_call(self, call_id: str) -> Call:
        return await self._store.get_call(call_id)

    async def get_call_webhook(self, call_id: str) -> CallWebhook:
        return await self._control.get_call_webhook(call_id)

    async def close(self) -> None:
        await self._store.close()


class GrpcCallBackend:
    """Talks to the dialer and the store over gRPC; create it inside the running event loop."""

    def __init__(
        self, services: ServiceAddresses, health_timeout_sec: float = HEALTH_TIMEOUT_SEC
    ) -> None:
        self._dialers = DialerReplicas(services.dialer)
        self._store = StoreClient(services.store)
        self._control = CallControlStore(self._store.channel)
        # Speech and brain are only probed; their channels exist for readiness alone.
        self._probe_only = {
            "speech": open_channel(services.speech),
            "brain": open_channel(services.brain),
        }
        self._health_timeout = health_timeout_sec

    async def place_call(self, request: CallRequest) -> Call:
        return await self._dialers.default.place_call(request)

    async def get_call(self, call_id: str) -> Call:
        return await self._store.get_call(call_id)

    async def list_calls(
        self,
        phone_number: str = "",
        limit: int = 100,
        states: Sequence[CallState] = (),
        offset: int = 0,
    ) -> tuple[list[Call], int]:
        return await self._store.list_calls(phone_number, limit, states, offset)

    async def call_events(self, call_id: str) -> list[CallEvent]:
        return await self._store.call_events(call_id)

    async def hang_up(self, call: Call, reason: str) -> bool:
        return await (await self._dialers.running(call)).hang_up(call.call_id, reason)

    async def transfer(self, call: Call, target: str) -> bool:
        return await (await self._dialers.running(call)).transfer(call.call_id, target)

    async def claim_idempotency_key(
        self, client: str, key: str, request_hash: str
    ) -> IdempotencyRecord:
        return await self._control.claim_idempotency_key(client, key, request_hash)

    async def settle_idempotency_key(self, client: str, key: str, call_id: str) -> None:
        await self._control.settle_idempotency_key(client, key, call_id)

    async def release_idempotency_key(self, client: str, key: str) -> None:
        await self._control.release_idempotency_key(client, key)

    async def set_call_webhook(self, webhook: CallWebhook) -> None:
        await self._control.set_call_webhook(webhook)

    async def readiness(self) -> list[ServiceCheck]:
        channels = {
            "dialer": self._dialers.default.channel,
            "store": self._store.channel,
            **self._probe_only,
        }
        results = await asyncio.gather(
            *(check_health(name, channels[name], self._health_timeout) for name in DEPENDENCIES)
        )
        return [ServiceCheck(name, ok) for name, ok in zip(DEPENDENCIES, results, strict=True)]

    async def close(self) -> None:
        await self._dialers.close()
        await self._store.close()
        for channel in self._probe_only.values():
            await channel.close()
