"""``python -m switchboard_dialer``: the Dialer service process."""

from __future__ import annotations

from switchboard.config import Settings
from switchboard.features import FeatureFlags
from switchboard.server import SHUTDOWN_GRACE_SEC, GrpcService
from switchboard.service_main import main
from switchboard.store_client import StoreClient
from switchboard.v1 import dialer_pb2_grpc
from switchboard_dialer.app import build_dialer
from switchboard_dialer.brain_client import BrainClient
from switchboard_dialer.telephony import create_telephony


async def setup(service: GrpcService, settings: Settings, flags: FeatureFlags) -> None:
    store = StoreClient(settings.services.store)
    brain = BrainClient(settings.services.brain)
    telephony = create_telephony(settings.dialer.telephony)
    app = build_dialer(store, brain, telephony, flags, settings.dialer)
    # Generated registration helpers are untyped.
    dialer_pb2_grpc.add_DialerServicer_to_server(app.servicer, service.server)  # type: ignore[no-untyped-call]

    # Live calls must end as "shutdown" before the server cancels the phones'
    # streams (which would read as dropped lines), and GrpcService has no hook
    # that runs when shutdown starts: wrap stop for this one instance (as the
    # store does). Drop this once the shared server offers such a hook.
    server_stop = service.stop

    async def stop_with_calls(grace: float = SHUTDOWN_GRACE_SEC) -> None:
        await app.registry.stop_all("shutdown")
        await server_stop(grace)

    service.stop = stop_with_calls  # type: ignore[method-assign]

    async def close() -> None:
        await app.stop()
        await brain.close()
        await store.close()

    service.on_stop(close)


def run() -> None:
    main("dialer", ["switchboard.v1.Dialer"], setup)


if __name__ == "__main__":
    run()
