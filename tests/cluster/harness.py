"""Helpers of the cross-service tests."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from switchboard.store_client import StoreClient
from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import Scenario, SimulatedCallee, SimulationResult

# Dates in scenarios resolve against this instant: Tuesday 24 November 2026, 07:00 in California.
FIXED_NOW = "2026-11-24T15:00:00+00:00"


def simulate(cluster: Cluster, scenario: dict[str, Any]) -> SimulationResult:
    callee = SimulatedCallee(
        Scenario.model_validate(scenario),
        cluster.gateway_url,
        cluster.api_key,
        cluster.ports.grpc_address("dialer"),
    )
    return asyncio.run(callee.run(limit_sec=60))


def stored_call_count(cluster: Cluster) -> int:
    async def count() -> int:
        store = StoreClient(cluster.ports.grpc_address("store"))
        try:
            _, total = await store.list_calls(limit=1)
            return total
        finally:
            await store.close()

    return asyncio.run(count())


def unique_number() -> str:
    """A valid US number no other test uses, so callback resumption never mixes tests."""
    return f"+1415555{secrets.randbelow(9000) + 1000}"
