"""A domain-typed client of the Dialer service (only what the gateway calls), and the
clients of the dialer replicas that run live calls.

A live call runs in one dialer replica; only that one can hang it up or transfer it.
The replica records where gateways reach it in the call's lease (its
``dialer.advertise_address``), which the store returns as ``Call.dialer_address``;
:class:`DialerReplicas` sends a call's control there, over a channel opened on first use
and kept, and to ``services.dialer`` when the address is empty (one replica, or none
advertised). The address comes from the store, written by a dialer, never from a request.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import grpc

from switchboard import convert, domain
from switchboard.channels import open_channel
from switchboard.grpc_edge import domain_error
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_gateway.backend import DialTimeout

# PlaceCall returns once dialling has started; clients (the simulator) wait 10 s.
PLACE_CALL_TIMEOUT_SEC = 8.0
# Channels kept to dialer replicas named by leases (the least recently used is closed).
MAX_REPLICA_CHANNELS = 64


class DialerClient:
    """Calls the dialer; raises domain errors (``InvalidArgument``, ``Unavailable``, …)."""

    def __init__(self, address: str, timeout_sec: float = PLACE_CALL_TIMEOUT_SEC) -> None:
        self._channel = open_channel(address)
        # Generated stubs have no annotations for the constructor.
        self._stub = dialer_pb2_grpc.DialerStub(self._channel)  # type: ignore[no-untyped-call]
        self._timeout = timeout_sec

    @property
    def channel(self) -> grpc.aio.Channel:
        return self._channel

    async def close(self) -> None:
        await self._channel.close()

    async def place_call(self, request: domain.CallRequest) -> domain.Call:
        """Dials ``request.phone_number``; the call as the dialer stored it."""
        try:
            reply = await self._stub.PlaceCall(
                dialer_pb2.PlaceCallRequest(initiate=convert.request_to_pb(request)),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise DialTimeout(
                    "the dialer did not confirm the call in time; it may still be placed, "
                    "see GET /call?phone_number="
                ) from exc
            raise domain_error(exc) from exc
        return convert.call_from_pb(reply)

    async def hang_up(self, call_id: str, reason: str) -> bool:
        """Ends or cancels the call if this dialer runs it; whether it did."""
        reply = await self._unary(
            self._stub.HangUp, dialer_pb2.HangUpRequest(call_id=call_id, reason=reason)
        )
        return bool(reply.was_live)

    async def transfer(self, call_id: str, target: str) -> bool:
        """Transfers the connected call to ``target``; whether the dialer accepted it."""
        reply = await self._unary(
            self._stub.Transfer, dialer_pb2.TransferCallRequest(call_id=call_id, target=target)
        )
        return bool(reply.accepted)

    async def _unary(self, method: Any, request: Any) -> Any:
        try:
            return await method(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc


class DialerReplicas:
    """The dialer at ``services.dialer`` and, for a live call, the replica that runs it."""

    def __init__(self, default_address: str, max_channels: int = MAX_REPLICA_CHANNELS) -> None:
        self.default = DialerClient(default_address)
        self._replicas: OrderedDict[str, DialerClient] = OrderedDict()
        self._max = max_channels

    async def running(self, call: domain.Call) -> DialerClient:
        """The client of the replica that runs ``call`` (``services.dialer`` without one)."""
        address = call.dialer_address
        if not address:
            return self.default
        client = self._replicas.get(address)
        if client is None:
            client = self._replicas[address] = DialerClient(address)
            if len(self._replicas) > self._max:
                _, oldest = self._replicas.popitem(last=False)
                await oldest.close()
        self._replicas.move_to_end(address)
        return client

    async def close(self) -> None:
        for client in [self.default, *self._replicas.values()]:
            await client.close()
        self._replicas.clear()
