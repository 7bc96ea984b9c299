"""The gRPC edge of the speech service: proto in, sessions, proto out.

Each stream is a receive task (requests → session) and the handler itself as
the sender (outbox → responses). The first to end or fail ends the other; a
failure reaches the caller as a status code through ``grpc_errors``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from switchboard.errors import InvalidArgument
from switchboard.features import FeatureFlags
from switchboard.grpc_edge import grpc_errors
from switchboard.tasks import cancel_and_wait
from switchboard.v1 import speech_pb2, speech_pb2_grpc
from switchboard_speech import codec
from switchboard_speech.engines import SpeechEngines
from switchboard_speech.listen import ListenSession
from switchboard_speech.model import ListenEvent, SpeakEvent
from switchboard_speech.outbox import Outbox
from switchboard_speech.speak import SpeakSession

log = logging.getLogger(__name__)

LISTEN_OUTBOX = 64
# Frames queued ahead of the sender (1 s); the rest wait in the synthesiser.
SPEAK_OUTBOX = 50
STOP_TIMEOUT_SEC = 2.0


async def _feed(work: Callable[[], Awaitable[None]], outbox: Outbox[Any]) -> None:
    """Runs a receive or worker loop; its end or failure is reported through the outbox."""
    try:
        await work()
    except Exception as exc:
        await outbox.fail(exc)


class SpeechServicer(speech_pb2_grpc.SpeechServicer):
    """Listen and Speak over the process's shared engines."""

    def __init__(self, engines: SpeechEngines, flags: FeatureFlags) -> None:
        self._engines = engines
        self._flags = flags

    @grpc_errors
    async def Listen(
        self,
        request_iterator: AsyncIterator[speech_pb2.ListenRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[speech_pb2.ListenResponse]:
        requests = aiter(request_iterator)
        config = codec.listen_config(await anext(requests, None))
        if not self._engines.stt.supports_lang(config.lang):
            raise InvalidArgument(
                f"the {self._engines.stt.name} recogniser does not support {config.lang!r}"
            )
        outbox: Outbox[ListenEvent] = Outbox(LISTEN_OUTBOX)
        session = ListenSession(
            config, self._engines.vad, self._engines.stt, lambda: self._flags.current, outbox.put
        )

        async def receive() -> None:
            async for request in requests:
                kind = request.WhichOneof("event")
                if kind == "audio":
                    frame = request.audio
                    if frame.sample_rate and frame.sample_rate != config.sample_rate:
                        raise InvalidArgument(
                            f"audio frame at {frame.sample_rate} Hz in a stream configured "
                            f"for {config.sample_rate} Hz"
                        )
                    await session.on_frame(frame.pcm, frame.timestamp_ms)
                elif kind == "settings":
                    session.set_lang(request.settings.lang)
                else:
                    raise InvalidArgument(
                        f"after `config` a ListenRequest must be `audio` or `settings`, got {kind}"
                    )
            await session.drain()
            await outbox.close()

        receiver = asyncio.create_task(
            _feed(receive, outbox),
            name=f"listen-recv-{config.call_id}",
        )
        log.info(
            "listen stream opened",
            extra={"call_id": config.call_id, "sample_rate": config.sample_rate},
        )
        try:
            while (event := await outbox.get()) is not None:
                yield codec.listen_event(event)
        finally:
            await cancel_and_wait([receiver], STOP_TIMEOUT_SEC)
            await session.aclose()
            log.info(
                "listen stream closed", extra={"call_id": config.call_id, "frames": session.frames}
            )

    @grpc_errors
    async def Speak(
        self,
        request_iterator: AsyncIterator[speech_pb2.SpeakRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[speech_pb2.SpeakResponse]:
        requests = aiter(request_iterator)
        config = codec.first_speak_config(await anext(requests, None))
        outbox: Outbox[SpeakEvent] = Outbox(SPEAK_OUTBOX)
        session = SpeakSession(config, self._engines.tts, outbox)

        async def receive() -> None:
            async for request in requests:
                kind = request.WhichOneof("event")
                if kind == "text":
                    session.add_text(codec.speak_text(request.text))
                elif kind == "cancel":
                    session.cancel(request.cancel.turn_id)
                elif kind == "settings":
                    session.configure(codec.speak_config(request.settings))
                else:
                    raise InvalidArgument(
                        "after `config` a SpeakRequest must be text, cancel or settings, "
                        f"not {kind}"
                    )
            session.close_input()

        async def synthesise() -> None:
            await session.run()
            await outbox.close()

        receiver = asyncio.create_task(
            _feed(receive, outbox),
            name=f"speak-recv-{config.call_id}",
        )
        worker = asyncio.create_task(
            _feed(synthesise, outbox),
            name=f"speak-synth-{config.call_id}",
        )
        log.info(
            "speak stream opened", extra={"call_id": config.call_id, "voice": session.voice.name}
        )
        try:
            while (event := await outbox.get()) is not None:
                if session.is_cancelled(event.turn_id):
                    continue  # queued before the cancel was read: never sent
                yield codec.speak_event(event, config.call_id, config.sample_rate)
        finally:
            await cancel_and_wait([receiver, worker], STOP_TIMEOUT_SEC)
            log.info("speak stream closed", extra={"call_id": config.call_id})
