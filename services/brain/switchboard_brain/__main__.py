"""``python -m switchboard_brain``: the Brain gRPC service."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from switchboard.clock import SystemClock
from switchboard.config import Settings
from switchboard.features import FeatureFlags
from switchboard.server import GrpcService
from switchboard.service_main import main
from switchboard.store_client import StoreClient
from switchboard_brain.policy import create_policy
from switchboard_brain.servicer import BrainServicer, register

log = logging.getLogger("switchboard_brain")


def fixed_now(value: str) -> datetime | None:
    """``brain.fixed_now`` as an aware datetime (UTC when it has no offset)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SystemExit(f"brain: brain.fixed_now must be ISO 8601, got {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def setup(service: GrpcService, settings: Settings, flags: FeatureFlags) -> None:
    """Wires the store client, clock and policy into the servicer."""
    store = StoreClient(settings.services.store)
    clock = SystemClock(fixed_now(settings.brain.fixed_now))
    policy = create_policy(settings.brain.policy)
    register(service.server, BrainServicer(store, clock, flags, policy))
    service.on_stop(store.close)
    log.info(
        "brain policy ready",
        extra={"policy": policy.name, "fixed_now": settings.brain.fixed_now or None},
    )


def run() -> None:
    main("brain", ["switchboard.v1.Brain"], setup)


if __name__ == "__main__":
    run()
