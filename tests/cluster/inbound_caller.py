"""A caller ringing the bot on the simulator, with whatever number as caller ID."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc

from switchboard.v1 import dialer_pb2, dialer_pb2_grpc

BOT_NUMBER = "+18005550100"


@dataclass
class InboundResult:
    call_id: str = ""
    heard: list[str] = field(default_factory=list)  # the bot's sentences, in order
    end_reason: str = ""


async def _drain(queue: asyncio.Queue[dialer_pb2.PhoneUplink | None]) -> AsyncIterator[object]:
    while (item := await queue.get()) is not None:
        yield item


async def call_in(
    dialer_address: str, caller_id: str, lines: list[str], limit_sec: float = 60
) -> InboundResult:
    """Registers ``caller_id`` as a phone, dials the bot and says ``lines`` one per bot
    turn; after the last line it hangs up at the next turn's end (or when the bot does)."""
    result = InboundResult()
    uplink: asyncio.Queue[dialer_pb2.PhoneUplink | None] = asyncio.Queue()
    async with grpc.aio.insecure_channel(dialer_address) as channel:
        stub = dialer_pb2_grpc.DialerStub(channel)  # type: ignore[no-untyped-call]
        stream = stub.Phone(_drain(uplink), wait_for_ready=True)
        register = dialer_pb2.PhoneRegister(number=caller_id, mode=dialer_pb2.PHONE_MODE_TEXT)
        await uplink.put(dialer_pb2.PhoneUplink(register=register))
        try:
            async with asyncio.timeout(limit_sec):
                first = await stream.read()
                assert first.WhichOneof("event") == "registered", first
                dial = dialer_pb2.PhoneCall(to_number=BOT_NUMBER)
                await uplink.put(dialer_pb2.PhoneUplink(dial=dial))
                pending = list(lines)
                while True:
                    event = await stream.read()
                    if event is grpc.aio.EOF:
                        break
                    kind = event.WhichOneof("event")
                    if kind == "connected":
                        result.call_id = event.connected.call_id
                    elif kind == "bot_said":
                        result.heard.append(event.bot_said.text)
                    elif kind == "bot_turn_done":
                        if pending:
                            say = dialer_pb2.PhoneSay(text=pending.pop(0))
                            await uplink.put(dialer_pb2.PhoneUplink(say=say))
                        else:
                            hang_up = dialer_pb2.PhoneHangUp(reason="caller_hangup")
                            await uplink.put(dialer_pb2.PhoneUplink(hang_up=hang_up))
                    elif kind == "ended":
                        result.end_reason = event.ended.reason
                        break
        finally:
            await uplink.put(None)
            stream.cancel()
    return result
