"""Helpers of the cross-service tests."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from switchboard import domain
from switchboard.store_client import StoreClient
from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_cli.scenario import BeforeLine, Scenario, SimulatedCallee, SimulationResult

# Dates in scenarios resolve against this instant: Tuesday 24 November 2026, 07:00 in California.
FIXED_NOW = "2026-11-24T15:00:00+00:00"


@contextmanager
def started_cluster(
    root: Path, env: Mapping[str, str] | None = None, **options: Any
) -> Iterator[Cluster]:
    """The five services as processes on free ports, their data and logs under ``root``,
    with the tests' defaults (no config file, a fixed "now", DEBUG logs: the strictest
    for the log scans) and then ``env``; stopped on exit."""
    cluster = Cluster(
        ports=ClusterPorts.free(),
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD__LOGGING__LEVEL": "DEBUG",
            **(env or {}),
        },
        **options,
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def simulate(
    cluster: Cluster, scenario: dict[str, Any], before_line: BeforeLine | None = None
) -> SimulationResult:
    callee = SimulatedCallee(
        Scenario.model_validate(scenario),
        cluster.gateway_url,
        cluster.api_key,
        cluster.ports.grpc_address("dialer"),
        before_line=before_line,
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


def syntheses_of(cluster: Cluster, call_id: str) -> list[domain.Synthesis]:
    """Every synthesis the store recorded for the call, from its event log."""
    return asyncio.run(stored_syntheses(cluster.ports.grpc_address("store"), call_id))


async def stored_syntheses(store_address: str, call_id: str) -> list[domain.Synthesis]:
    """Every synthesis the store at ``store_address`` recorded for the call (event log)."""
    store = StoreClient(store_address)
    found: list[domain.Synthesis] = []
    events = store.watch_call(call_id)
    try:
        async with asyncio.timeout(1.0):
            async for event in events:
                if isinstance(event.payload, domain.Synthesis):
                    found.append(event.payload)
    except TimeoutError:
        pass  # a watch stays open for new events: one quiet second means all is read
    finally:
        await events.aclose()  # type: ignore[attr-defined]
        await store.close()
    return found
