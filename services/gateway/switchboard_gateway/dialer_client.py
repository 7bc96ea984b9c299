"""A domain-typed client of the Dialer service (only what the gateway calls)."""

from __future__ import annotations

from typing import Any

import grpc

from switchboard import convert, domain
from switchboard.channels import open_channel
from switchboard.grpc_edge import domain_error
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_gateway.backend import DialTimeout

# PlaceCall returns once dialling has started; clients (the simulator) wait 10 s.
PLACE_CALL_TIMEOUT_SEC = 8.0


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
