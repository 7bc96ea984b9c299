"""The production :class:`~switchboard_gateway.carrier_link.CarrierLink` over the dialer's gRPC:
lib's :class:`~switchboard.phone_client.PhoneClient` attaches media sockets, the dialer
stub takes callbacks.

A call runs in one dialer replica. When a carrier's URL names that replica (a signed
route, checked by the route handler), its media socket and callbacks go to that address
over a channel opened on first use and kept; without a route they go to
``services.dialer`` (one replica, or any of them for a new inbound call).
"""

from __future__ import annotations

from collections import OrderedDict

import grpc

from switchboard.channels import open_channel
from switchboard.grpc_edge import domain_error
from switchboard.phone import PhoneAttach
from switchboard.phone_client import GrpcPhoneStream, PhoneClient
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_gateway.carrier_link import AnsweredCall

WEBHOOK_TIMEOUT_SEC = 10.0
# Carriers wait a few seconds for an inbound call's answer; the dialer must answer sooner.
ANSWER_TIMEOUT_SEC = 5.0
# Channels kept to dialer replicas named by routes (the least recently used is closed).
MAX_ROUTED_DIALERS = 64


class _DialerLink:
    """The channels to one dialer address."""

    def __init__(self, address: str) -> None:
        self.phones = PhoneClient(address)
        self.channel = open_channel(address)
        # Generated stubs have no annotations for the constructor.
        self.stub = dialer_pb2_grpc.DialerStub(self.channel)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self.phones.close()
        await self.channel.close()


class GrpcCarrierLink:
    """Attaches media sockets and forwards callbacks to the dialer that runs the call."""

    def __init__(self, dialer_address: str) -> None:
        self._default = _DialerLink(dialer_address)
        self._routed: OrderedDict[str, _DialerLink] = OrderedDict()

    async def _dialer(self, route: str) -> _DialerLink:
        if not route:
            return self._default
        link = self._routed.get(route)
        if link is None:
            link = self._routed[route] = _DialerLink(route)
            if len(self._routed) > MAX_ROUTED_DIALERS:
                _, oldest = self._routed.popitem(last=False)
                await oldest.close()
        self._routed.move_to_end(route)
        return link

    async def attach(self, attach: PhoneAttach, route: str = "") -> GrpcPhoneStream:
        return await (await self._dialer(route)).phones.attach(attach)

    async def webhook(
        self, provider: str, kind: str, call_id: str, token: str, body: bytes, route: str = ""
    ) -> int:
        request = dialer_pb2.CarrierWebhookRequest(
            provider=provider, kind=kind, call_id=call_id, token=token, body=body
        )
        dialer = await self._dialer(route)
        try:
            reply = await dialer.stub.CarrierWebhook(request, timeout=WEBHOOK_TIMEOUT_SEC)
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        return int(reply.accepted)

    async def answer_call(
        self, provider: str, from_number: str, to_number: str, provider_call_id: str
    ) -> AnsweredCall:
        request = dialer_pb2.AnswerCallRequest(
            provider=provider,
            from_number=from_number,
            to_number=to_number,
            provider_call_id=provider_call_id,
        )
        try:
            call = await self._default.stub.AnswerCall(request, timeout=ANSWER_TIMEOUT_SEC)
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        return AnsweredCall(str(call.call_id), str(call.dialer_address))

    async def close(self) -> None:
        for link in [self._default, *self._routed.values()]:
            await link.close()
        self._routed.clear()
