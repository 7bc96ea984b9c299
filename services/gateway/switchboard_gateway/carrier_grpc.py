"""The production :class:`~switchboard_gateway.carrier_link.CarrierLink` over the dialer's gRPC:
lib's :class:`~switchboard.phone_client.PhoneClient` attaches media sockets, the dialer
stub takes callbacks."""

from __future__ import annotations

import grpc

from switchboard.channels import open_channel
from switchboard.grpc_edge import domain_error
from switchboard.phone import PhoneAttach
from switchboard.phone_client import GrpcPhoneStream, PhoneClient
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc

WEBHOOK_TIMEOUT_SEC = 10.0
# Carriers wait a few seconds for an inbound call's answer; the dialer must answer sooner.
ANSWER_TIMEOUT_SEC = 5.0


class GrpcCarrierLink:
    """Attaches media sockets and forwards callbacks to the dialer."""

    def __init__(self, dialer_address: str) -> None:
        self._phones = PhoneClient(dialer_address)
        self._channel = open_channel(dialer_address)
        # Generated stubs have no annotations for the constructor.
        self._dialer = dialer_pb2_grpc.DialerStub(self._channel)  # type: ignore[no-untyped-call]

    async def attach(self, attach: PhoneAttach) -> GrpcPhoneStream:
        return await self._phones.attach(attach)

    async def webhook(self, provider: str, kind: str, call_id: str, token: str, body: bytes) -> int:
        request = dialer_pb2.CarrierWebhookRequest(
            provider=provider, kind=kind, call_id=call_id, token=token, body=body
        )
        try:
            reply = await self._dialer.CarrierWebhook(request, timeout=WEBHOOK_TIMEOUT_SEC)
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        return int(reply.accepted)

    async def answer_call(
        self, provider: str, from_number: str, to_number: str, provider_call_id: str
    ) -> str:
        request = dialer_pb2.AnswerCallRequest(
            provider=provider,
            from_number=from_number,
            to_number=to_number,
            provider_call_id=provider_call_id,
        )
        try:
            call = await self._dialer.AnswerCall(request, timeout=ANSWER_TIMEOUT_SEC)
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        return str(call.call_id)

    async def close(self) -> None:
        await self._phones.close()
        await self._channel.close()
