"""The gRPC edge of the speech service: proto in, sessions, proto out.

Each stream is a receive task (requests → session) and the handler itself as
the sender (outbox → responses). The first to end or fail ends the other; a
failure reaches the caller as a status code through ``grpc_errors``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import grpc

from switchboard.errors import InvalidArgument
from switchboard.features import FeatureFlags
from switchboard.grpc_edge import grpc_errors
from switchboard.media import FRAME_MS, AudioFrame, ExpectedAnswer, frame_bytes, frames_of
from switchboard.speech import (
    MAX_FRAMES_PER_MESSAGE,
    CancelTurn,
    ListenConfig,
    ListenResponse,
    ListenSettings,
    SpeakConfig,
    SpeakResponse,
    SpeakSettings,
    SpeakText,
)
from switchboard.speech_wire import (
    listen_request_from_pb,
    listen_response_to_pb,
    speak_request_from_pb,
    speak_response_to_pb,
)
from switchboard.tasks import cancel_and_wait
from switchboard.v1 import speech_pb2, speech_pb2_grpc
from switchboard_speech.audio import check_sample_rate
from switchboard_speech.engines import SpeechEngines
from switchboard_speech.listen import DEFAULT_LANG, ListenSession
from switchboard_speech.outbox import Outbox
from switchboard_speech.speak import SpeakSession

log = logging.getLogger(__name__)

LISTEN_OUTBOX = 64
# Messages queued ahead of the sender (1 s of single frames; more when the client asked
# for several frames a message); the rest wait in the synthesiser.
SPEAK_OUTBOX = 50
STOP_TIMEOUT_SEC = 2.0


def _listen_config(request: speech_pb2.ListenRequest | None) -> ListenConfig:
    config = listen_request_from_pb(request) if request is not None else None
    if type(config) is not ListenConfig:
        raise InvalidArgument(
            "the first ListenRequest must be `config` (call_id, sample_rate, lang)"
        )
    check_sample_rate(config.sample_rate)
    _check_frames_per_message(config.frames_per_message)
    return replace(config, lang=config.lang or DEFAULT_LANG)


def _speak_config(request: speech_pb2.SpeakRequest | None) -> SpeakConfig:
    config = speak_request_from_pb(request) if request is not None else None
    if type(config) is not SpeakConfig:
        raise InvalidArgument(
            "the first SpeakRequest must be `config` (call_id, sample_rate, voice, lang, "
            "prosody_rate)"
        )
    check_sample_rate(config.sample_rate)
    _check_frames_per_message(config.frames_per_message)
    return config


def _check_frames_per_message(count: int) -> None:
    if not 0 <= count <= MAX_FRAMES_PER_MESSAGE:
        raise InvalidArgument(
            f"frames_per_message must be 0 to {MAX_FRAMES_PER_MESSAGE}, got {count}"
        )


def _frames(pcm: bytes, config: ListenConfig) -> list[bytes]:
    """A Listen message's audio as 20 ms frames: one, or up to ``frames_per_message``
    whole ones when the stream asked for that (each frame is checked by the session)."""
    size = frame_bytes(config.sample_rate)
    if len(pcm) <= size or config.frames_per_message <= 1:
        return [pcm]
    if len(pcm) % size or len(pcm) > size * config.frames_per_message:
        raise InvalidArgument(
            f"audio is {len(pcm)} bytes; at most {config.frames_per_message} whole 20 ms "
            f"PCM16 frames of {size} bytes ({config.sample_rate} Hz) a message"
        )
    return frames_of(pcm, config.sample_rate)


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
        config = _listen_config(await anext(requests, None))
        if not self._engines.stt.supports_lang(config.lang):
            raise InvalidArgument(
                f"the {self._engines.stt.name} recogniser does not support {config.lang!r}"
            )
        outbox: Outbox[ListenResponse] = Outbox(LISTEN_OUTBOX)
        session = ListenSession(
            config, self._engines.vad, self._engines.stt, lambda: self._flags.current, outbox.put
        )

        async def receive() -> None:
            async for request in requests:
                match listen_request_from_pb(request):
                    case AudioFrame() as frame:
                        if frame.sample_rate and frame.sample_rate != config.sample_rate:
                            raise InvalidArgument(
                                f"audio frame at {frame.sample_rate} Hz in a stream configured "
                                f"for {config.sample_rate} Hz"
                            )
                        at_ms = frame.timestamp_ms
                        for pcm in _frames(frame.pcm, config):
                            await session.on_frame(pcm, at_ms)
                            at_ms += FRAME_MS
                    case ListenSettings(lang=lang):
                        session.set_lang(lang)
                    case ExpectedAnswer() as expected:
                        session.expect(expected)
                    case _:
                        kind = request.WhichOneof("event")
                        raise InvalidArgument(
                            "after `config` a ListenRequest must be `audio`, `settings` or "
                            f"`expecting`, got {kind}"
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
                yield listen_response_to_pb(event)
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
        config = _speak_config(await anext(requests, None))
        outbox: Outbox[SpeakResponse] = Outbox(SPEAK_OUTBOX)
        session = SpeakSession(config, self._engines.tts, outbox)

        async def receive() -> None:
            async for request in requests:
                match speak_request_from_pb(request):
                    case SpeakText() as text:
                        session.add_text(text)
                    case CancelTurn(turn_id=turn_id):
                        session.cancel(turn_id)
                    case SpeakSettings() as settings:
                        session.configure(settings)
                    case _:
                        kind = request.WhichOneof("event")
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
                yield speak_response_to_pb(event)
        finally:
            await cancel_and_wait([receiver, worker], STOP_TIMEOUT_SEC)
            log.info("speak stream closed", extra={"call_id": config.call_id})
