"""``python -m switchboard_dialer``: the Dialer service process."""

from __future__ import annotations

from switchboard.blobs import create_blob_store
from switchboard.brain_client import BrainClient
from switchboard.config import Settings
from switchboard.features import FeatureFlags
from switchboard.server import GrpcService
from switchboard.service_main import main
from switchboard.speech_client import SpeechClient
from switchboard.store_client import StoreClient
from switchboard.v1 import dialer_pb2_grpc
from switchboard_dialer.app import DialerApp, build_dialer
from switchboard_dialer.sms import create_sms
from switchboard_dialer.telephony import create_telephony


async def setup(service: GrpcService, settings: Settings, flags: FeatureFlags) -> None:
    store = StoreClient(settings.services.store)
    brain = BrainClient(settings.services.brain)
    speech = SpeechClient(settings.services.speech)
    telephony = create_telephony(settings)
    sms = create_sms(settings, store)
    app = build_dialer(
        store,
        brain,
        telephony,
        flags,
        settings,
        sms=sms,
        speech=speech,
        blobs=create_blob_store(settings.recording),
    )
    # Explicit, not lazy: a SIP port that cannot be bound fails the process at boot.
    await app.start()
    # Generated registration helpers are untyped.
    dialer_pb2_grpc.add_DialerServicer_to_server(app.servicer, service.server)  # type: ignore[no-untyped-call]

    drain_on_shutdown(service, app, settings.dialer.drain_timeout_sec)

    async def close() -> None:
        await app.stop()
        await brain.close()
        await speech.close()
        await store.close()

    service.on_stop(close)


def drain_on_shutdown(service: GrpcService, app: DialerApp, drain_timeout_sec: float) -> None:
    """On SIGTERM (health already NOT_SERVING, the server still serving): new calls are
    refused, live ones get ``drain_timeout_sec`` to finish, the rest end with a goodbye.
    Whatever is still live then ends as "shutdown" before the server cancels the
    phones' streams (which would read as dropped lines)."""

    async def drain_live_calls() -> None:
        await app.drain(drain_timeout_sec)
        await app.registry.stop_all("shutdown")

    service.on_shutdown(drain_live_calls)


def run() -> None:
    main("dialer", ["switchboard.v1.Dialer"], setup)


if __name__ == "__main__":
    run()
