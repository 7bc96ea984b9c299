"""Half-open requests are dropped: raw sockets on loopback against a real uvicorn server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect

from switchboard_gateway.header_timeout import with_header_timeout

HEADER_TIMEOUT_SEC = 0.3
HALF_OPEN = 50
# Bounded waits on real sockets: generous so a loaded machine does not flake.
CLOSE_WAIT_SEC = 10.0


async def ok(_: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


@pytest.fixture
async def server() -> AsyncIterator[int]:
    # The listening socket is ours: connections queue in its backlog until uvicorn runs.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    config = uvicorn.Config(
        Starlette(routes=[Route("/", ok), WebSocketRoute("/ws", echo)]),
        log_config=None,
        http=with_header_timeout(HEADER_TIMEOUT_SEC),
        timeout_keep_alive=60,  # far longer than the header deadline: it is not what closes
    )
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve(sockets=[listener]), name="uvicorn")
    try:
        yield int(listener.getsockname()[1])
    finally:
        served.should_exit = True
        await asyncio.wait_for(task, CLOSE_WAIT_SEC)
        listener.close()


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """True when the server closes the connection (EOF) before the wait is over."""
    try:
        return await asyncio.wait_for(reader.read(), CLOSE_WAIT_SEC) == b""
    except (TimeoutError, ConnectionResetError):
        return False


async def get(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    reply = await asyncio.wait_for(reader.read(), CLOSE_WAIT_SEC)
    writer.close()
    return reply


async def test_half_sent_request_lines_are_closed_after_the_timeout_while_requests_still_work(
    server: int,
) -> None:
    streams = [await asyncio.open_connection("127.0.0.1", server) for _ in range(HALF_OPEN)]
    for _, writer in streams:
        writer.write(b"GET /slow")  # half a request line, never finished

    assert (await get(server)).endswith(b"ok")
    closed = await asyncio.gather(*(closed_by_server(reader) for reader, _ in streams))
    assert all(closed), f"{closed.count(False)} of {HALF_OPEN} half-open connections held"
    assert (await get(server)).endswith(b"ok")
    for _, writer in streams:
        writer.close()


async def test_a_connection_that_never_sends_a_byte_is_closed(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    assert await closed_by_server(reader)
    writer.close()


async def test_a_kept_alive_connection_serves_a_second_request_but_not_a_stalled_one(
    server: int,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    for _ in range(2):
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CLOSE_WAIT_SEC)
        assert head.startswith(b"HTTP/1.1 200")
        assert await asyncio.wait_for(reader.readexactly(2), CLOSE_WAIT_SEC) == b"ok"
    writer.write(b"GET / HTTP/1.1\r\nHo")  # the third request stalls in its headers

    assert await closed_by_server(reader)
    writer.close()


async def test_a_websocket_session_outlives_the_header_deadline(server: int) -> None:
    async with connect(f"ws://127.0.0.1:{server}/ws") as websocket:
        await websocket.send("one")
        assert await websocket.recv() == "one"
        # Past the header deadline, the upgraded connection is not closed by it.
        await asyncio.sleep(HEADER_TIMEOUT_SEC * 3)
        await websocket.send("two")
        assert await asyncio.wait_for(websocket.recv(), CLOSE_WAIT_SEC) == "two"


async def test_a_kept_alive_connection_busy_past_the_deadline_is_not_cut_between_requests(
    server: int,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    loop = asyncio.get_running_loop()
    until = loop.time() + HEADER_TIMEOUT_SEC * 4
    served = 0
    while loop.time() < until or served < 3:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CLOSE_WAIT_SEC)
        assert head.startswith(b"HTTP/1.1 200")
        assert await asyncio.wait_for(reader.readexactly(2), CLOSE_WAIT_SEC) == b"ok"
        served += 1
        await asyncio.sleep(HEADER_TIMEOUT_SEC / 5)  # a client pacing its requests
    writer.close()


async def test_a_pipelined_request_stalled_after_a_whole_one_is_closed(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHo")

    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CLOSE_WAIT_SEC)
    assert head.startswith(b"HTTP/1.1 200")
    assert await asyncio.wait_for(reader.readexactly(2), CLOSE_WAIT_SEC) == b"ok"
    assert await closed_by_server(reader)
    writer.close()
