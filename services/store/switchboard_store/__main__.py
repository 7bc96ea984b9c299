"""``python -m switchboard_store``: the Store service on the configured database."""

from __future__ import annotations

from switchboard.config import Settings
from switchboard.features import FeatureFlags
from switchboard.server import GrpcService
from switchboard.service_main import main
from switchboard.v1 import store_pb2_grpc
from switchboard_store.backends import open_repository
from switchboard_store.job_queue import JobQueue
from switchboard_store.repository import CallRepository
from switchboard_store.servicer import StoreServicer

SERVICE_NAMES = ["switchboard.v1.Store"]


def serve_repository(
    service: GrpcService, repository: CallRepository, jobs: JobQueue | None = None
) -> None:
    """Serves ``repository`` on ``service``: watches end first on shutdown, the database last."""
    # The generated *_pb2_grpc modules carry no type stubs (protoc writes none for them).
    store_pb2_grpc.add_StoreServicer_to_server(  # type: ignore[no-untyped-call]
        StoreServicer(repository, jobs), service.server
    )
    # Ending the watches first lets every WatchCall stream finish with OK.
    service.on_shutdown(repository.notifier.close)
    service.on_stop(repository.close)


async def setup(service: GrpcService, settings: Settings, flags: FeatureFlags) -> None:
    """Opens (and migrates) the configured database and serves it (on Redis when enabled)."""
    repository = await open_repository(settings.store)
    if not settings.redis.enabled:
        serve_repository(service, repository)
        return
    # Imported only when on: redis-py is needed only then.
    from switchboard_store.redis_wiring import attach_redis

    on_redis = attach_redis(repository, settings.redis, settings.store)
    serve_repository(service, repository, on_redis.jobs)
    service.on_shutdown(on_redis.shutdown)
    service.on_stop(on_redis.close)
    on_redis.start()


if __name__ == "__main__":
    main("store", SERVICE_NAMES, setup)
