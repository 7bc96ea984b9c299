"""A raw-bytes gRPC service with one method of each kind, served by a real GrpcService.

Each call is counted under the server's name, so a test sees which backend served it
and whether a refused call ever reached a handler.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import grpc

from switchboard.server import GrpcService

SERVICE = "switchboard.test.Echo"
UNARY = f"/{SERVICE}/Unary"
SERVER_STREAM = f"/{SERVICE}/ServerStream"
CLIENT_STREAM = f"/{SERVICE}/ClientStream"
BIDI = f"/{SERVICE}/Bidi"


def _handlers(name: str, served: Counter[str]) -> grpc.GenericRpcHandler:
    async def unary(request: bytes, context: Any) -> bytes:
        served[name] += 1
        return name.encode()

    async def server_stream(request: bytes, context: Any) -> AsyncIterator[bytes]:
        served[name] += 1
        for _ in range(2):
            yield name.encode()

    async def client_stream(requests: AsyncIterator[bytes], context: Any) -> bytes:
        served[name] += 1
        return b"".join([r async for r in requests]) + name.encode()

    async def bidi(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
        served[name] += 1
        async for _ in requests:
            yield name.encode()

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Unary": grpc.unary_unary_rpc_method_handler(unary),
            "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
            "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
            "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
        },
    )


@contextlib.asynccontextmanager
async def echo_server(
    name: str, served: Counter[str], host: str = "127.0.0.1"
) -> AsyncIterator[GrpcService]:
    """An echo server on a free port of ``host``, with this process's internal auth."""
    service = GrpcService(name, f"{host}:0", [SERVICE])
    service.server.add_generic_rpc_handlers((_handlers(name, served),))
    await service.start()
    try:
        yield service
    finally:
        await service.stop(0)


async def one_of_each(channel: grpc.aio.Channel) -> list[bytes]:
    """One call of each kind; what each answered."""
    answers = [await channel.unary_unary(UNARY)(b"hi")]
    answers += [reply async for reply in channel.unary_stream(SERVER_STREAM)(b"hi")]
    answers.append(await channel.stream_unary(CLIENT_STREAM)(iter([b"a", b"b"])))
    bidi = channel.stream_stream(BIDI)()
    await bidi.write(b"x")
    answers.append(await bidi.read())
    await bidi.done_writing()
    assert await bidi.read() == grpc.aio.EOF
    return answers
