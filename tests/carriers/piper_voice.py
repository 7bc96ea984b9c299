"""A fake phone's voice: text spoken by the cluster's Speech service (Piper), as PCM16."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

from switchboard.v1 import speech_pb2, speech_pb2_grpc


async def synthesise(speech_address: str, text: str, rate: int = 16000) -> bytes:
    """``text`` as PCM16 mono at ``rate``, spoken by the Speech service."""
    requests: asyncio.Queue[speech_pb2.SpeakRequest | None] = asyncio.Queue()
    config = speech_pb2.SpeakConfig(call_id="fake-callee", sample_rate=rate, lang="en-US")
    requests.put_nowait(speech_pb2.SpeakRequest(config=config))
    requests.put_nowait(
        speech_pb2.SpeakRequest(text=speech_pb2.SpeakText(turn_id="callee", index=0, text=text))
    )

    async def drain() -> AsyncIterator[speech_pb2.SpeakRequest]:
        while (item := await requests.get()) is not None:
            yield item

    pcm = bytearray()
    async with grpc.aio.insecure_channel(speech_address) as channel:
        stub = speech_pb2_grpc.SpeechStub(channel)  # type: ignore[no-untyped-call]
        call = stub.Speak(drain(), wait_for_ready=True)
        async for msg in call:
            if msg.WhichOneof("event") == "audio":
                pcm += msg.audio.frame.pcm
            elif msg.WhichOneof("event") == "done":
                break
        requests.put_nowait(None)
        call.cancel()
    return bytes(pcm)
