"""The production :class:`~switchboard_gateway.carrier_link.CarrierLink` over the dialer's gRPC."""

from __future__ import annotations

import asyncio

import grpc

from switchboard.channels import open_channel
from switchboard.errors import Unavailable
from switchboard.grpc_edge import domain_error
from switchboard.phone import PhoneAttach, PhoneConnected
from switchboard.phone_wire import downlink_from_pb, uplink_to_pb
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_gateway.phone_grpc import UPLINK_BUFFER, GrpcPhoneStream, _drain

ATTACH_TIMEOUT_SEC = 5.0
WEBHOOK_TIMEOUT_SEC = 10.0


class GrpcCarrierLink:
    """Attaches media sockets and forwards callbacks to the dialer."""

    def __init__(self, dialer_address: str) -> None:
        self._channel = open_channel(dialer_address)
        # Generated stubs have no annotations for the constructor.
        self._dialer = dialer_pb2_grpc.DialerStub(self._channel)  # type: ignore[no-untyped-call]

    async def attach(self, attach: PhoneAttach) -> GrpcPhoneStream:
        uplink: asyncio.Queue[dialer_pb2.PhoneUplink | None] = asyncio.Queue(UPLINK_BUFFER)
        uplink.put_nowait(uplink_to_pb(attach))
        call = self._dialer.Phone(_drain(uplink))
        try:
            async with asyncio.timeout(ATTACH_TIMEOUT_SEC):
                first = await call.read()
        except TimeoutError as exc:
            call.cancel()
            raise Unavailable("the dialer did not confirm the media stream in time") from exc
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        connected = None if first is grpc.aio.EOF else downlink_from_pb(first)
        if not isinstance(connected, PhoneConnected):
            call.cancel()
            raise Unavailable("the dialer ended the media stream before attaching it")
        return GrpcPhoneStream(attach.call_id, call, uplink)

    async def webhook(self, provider: str, kind: str, call_id: str, token: str, body: bytes) -> int:
        request = dialer_pb2.CarrierWebhookRequest(
            provider=provider, kind=kind, call_id=call_id, token=token, body=body
        )
        try:
            reply = await self._dialer.CarrierWebhook(request, timeout=WEBHOOK_TIMEOUT_SEC)
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        return int(reply.accepted)

    async def close(self) -> None:
        await self._channel.close()
