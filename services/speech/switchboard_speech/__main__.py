"""``python -m switchboard_speech``: the speech service process.

Models load once, at startup, and are warmed up with a tiny inference before
the server reports SERVING; every stream shares them.
"""

from __future__ import annotations

import asyncio

from switchboard.config import Settings
from switchboard.features import FeatureFlags
from switchboard.server import GrpcService
from switchboard.service_main import main as service_main
from switchboard.v1 import speech_pb2_grpc
from switchboard_speech.engines import SpeechEngines, build_engines
from switchboard_speech.servicer import SpeechServicer

SERVICE_NAMES = ["switchboard.v1.Speech"]


def register(service: GrpcService, engines: SpeechEngines, flags: FeatureFlags) -> None:
    """Adds the Speech servicer and its shutdown step to a server."""
    servicer = SpeechServicer(engines, flags)
    speech_pb2_grpc.add_SpeechServicer_to_server(servicer, service.server)  # type: ignore[no-untyped-call]

    async def close_engines() -> None:
        engines.close()

    service.on_stop(close_engines)


async def setup(service: GrpcService, settings: Settings, flags: FeatureFlags) -> None:
    engines = await asyncio.to_thread(build_engines, settings.speech)
    await asyncio.to_thread(engines.warm_up)
    register(service, engines, flags)


def main() -> None:
    service_main("speech", SERVICE_NAMES, setup)


if __name__ == "__main__":
    main()
