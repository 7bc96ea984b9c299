"""A domain-typed client of the Brain service: ``Converse`` streams and ``Summarize``."""

from __future__ import annotations

import asyncio

import grpc

from switchboard.channels import open_channel
from switchboard.converse import ConverseRequest, ConverseResponse
from switchboard.converse_wire import request_to_pb, response_from_pb
from switchboard.errors import Unavailable
from switchboard.grpc_edge import domain_error
from switchboard.v1 import brain_pb2_grpc


class GrpcConverseStream:
    """One ``Brain.Converse`` call; gRPC failures come out as domain errors."""

    def __init__(self, call: grpc.aio.StreamStreamCall) -> None:
        self._call = call

    async def send(self, request: ConverseRequest) -> None:
        try:
            await self._call.write(request_to_pb(request))
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        except asyncio.InvalidStateError as exc:
            # The brain ended the stream while we were writing: as good as a drop.
            raise Unavailable("the brain closed the conversation stream") from exc

    async def receive(self) -> ConverseResponse | None:
        while True:
            try:
                msg = await self._call.read()
            except grpc.aio.AioRpcError as exc:
                raise domain_error(exc) from exc
            if msg is grpc.aio.EOF:
                return None
            event = response_from_pb(msg)
            if event is not None:
                return event

    async def close(self) -> None:
        self._call.cancel()


class BrainClient:
    """Opens conversation streams (post-call reports come from the store's job queue)."""

    def __init__(self, address: str) -> None:
        self._channel = open_channel(address)
        # Generated stubs are untyped; their .pyi covers messages only.
        self._stub = brain_pb2_grpc.BrainStub(self._channel)  # type: ignore[no-untyped-call]

    async def converse(self) -> GrpcConverseStream:
        # No wait_for_ready: a brain that is down fails fast and the session's
        # reconnect loop decides how long to keep trying.
        return GrpcConverseStream(self._stub.Converse())

    async def close(self) -> None:
        await self._channel.close()
