"""Post-call reports survive a brain or a dialer killed at the worst moment, exactly once.

The store queues the post-call job with the call's ending; the brain claims it under a
lease. A brain SIGKILLed while it summarises leaves the job leased: after the lease the
restarted brain claims it again. A dialer SIGKILLed right after the call ended has
nothing to lose: the job is already in the store.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from switchboard import domain
from switchboard.jobs import POST_CALL, Job, JobState
from switchboard.store_client import StoreClient
from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import SimulationResult
from tests.cluster.harness import FIXED_NOW, simulate, started_cluster, syntheses_of, unique_number

LEASE_SEC = "4"
HOLD_ENV = "SWITCHBOARD__BRAIN__POST_CALL__HOLD_SEC"
WAIT_SEC = 45.0
CLAIM = [{"name": "incident_description", "type": "text", "description": "what happened"}]
LINES = ["A tree fell on the fence.", "goodbye"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The five services; the brain holds each report (test-only) until a test releases it."""
    root = tmp_path_factory.mktemp("post-call")
    env = {
        "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),
        "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
        "SWITCHBOARD__LOGGING__LEVEL": "DEBUG",
        "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "2",
        "SWITCHBOARD__BRAIN__POST_CALL__LEASE_SEC": LEASE_SEC,
        "SWITCHBOARD__BRAIN__POST_CALL__POLL_SEC": "0.2",
        HOLD_ENV: "600",
    }
    with started_cluster(root, env) as cluster:
        yield cluster


def restart_brain(cluster: Cluster, hold_sec: float) -> None:
    cluster.kill("brain")
    assert isinstance(cluster.env, dict)
    cluster.env[HOLD_ENV] = str(hold_sec)
    cluster.restart("brain")


class CallInBackground:
    """A whole simulated call on its own thread; :meth:`result` waits for its report."""

    def __init__(self, cluster: Cluster) -> None:
        self.number = unique_number()
        scenario: dict[str, Any] = {
            "phone_number": self.number,
            "request": {"claim": CLAIM},
            "customer": LINES,
        }
        self._result: list[SimulationResult] = []
        self._thread = threading.Thread(
            target=lambda: self._result.append(simulate(cluster, scenario)), daemon=True
        )
        self._thread.start()

    def result(self) -> SimulationResult:
        self._thread.join(WAIT_SEC)
        assert self._result, "the simulated call did not finish"
        return self._result[0]


def poll(cluster: Cluster, check: Any, what: str) -> Any:
    """Asks ``check(store)`` every 50 ms until it returns something truthy."""

    async def run() -> Any:
        store = StoreClient(cluster.ports.grpc_address("store"))
        try:
            deadline = time.monotonic() + WAIT_SEC
            while time.monotonic() < deadline:
                found = await check(store)
                if found:
                    return found
                await asyncio.sleep(0.05)
        finally:
            await store.close()
        raise AssertionError(f"timed out waiting for {what}")

    return asyncio.run(run())


def call_of(cluster: Cluster, number: str, state: domain.CallState) -> domain.Call:
    async def check(store: StoreClient) -> domain.Call | None:
        calls, _ = await store.list_calls(phone_number=number)
        return calls[0] if calls and calls[0].state is state else None

    found: domain.Call = poll(cluster, check, f"a call of {number} in state {state.value}")
    return found


def post_call_job(cluster: Cluster, call_id: str, state: JobState) -> Job:
    async def check(store: StoreClient) -> Job | None:
        jobs = await store.list_jobs(state)
        return next((j for j in jobs if j.call_id == call_id and j.kind == POST_CALL), None)

    found: Job = poll(cluster, check, f"the post-call job of {call_id} {state.value}")
    return found


def test_a_brain_killed_while_summarising_still_leaves_exactly_one_report(
    cluster: Cluster,
) -> None:
    restart_brain(cluster, hold_sec=600)  # this brain never finishes a report
    call = CallInBackground(cluster)
    ended = call_of(cluster, call.number, domain.CallState.ENDED)
    held = post_call_job(cluster, ended.call_id, JobState.RUNNING)

    restart_brain(cluster, hold_sec=0)  # SIGKILL mid-report, then a brain that finishes

    result = call.result()
    done = post_call_job(cluster, ended.call_id, JobState.DONE)
    assert result.call["synthesis"]["short"]
    assert (done.job_id, done.attempts) == (held.job_id, 2)
    assert len(syntheses_of(cluster, ended.call_id)) == 1


def test_a_dialer_killed_right_after_the_call_ended_still_leaves_exactly_one_report(
    cluster: Cluster,
) -> None:
    restart_brain(cluster, hold_sec=1)  # the report is written after the dialer died
    call = CallInBackground(cluster)
    ended = call_of(cluster, call.number, domain.CallState.ENDED)

    cluster.kill("dialer")
    result = call.result()
    cluster.restart("dialer")

    done = post_call_job(cluster, ended.call_id, JobState.DONE)
    assert result.call["synthesis"]["short"]
    assert done.attempts == 1
    assert len(syntheses_of(cluster, ended.call_id)) == 1
