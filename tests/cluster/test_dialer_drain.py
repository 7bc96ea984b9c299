"""A rollout: the dialer gets SIGTERM mid-call, drains, says goodbye and exits 0.

The call outlives the (short) drain time, so the brain says and stores the goodbye,
the call ends ``drained`` with the claim said before kept, and its one report is written.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from switchboard_cli.launcher import Cluster
from tests.cluster.harness import simulate, started_cluster, syntheses_of, unique_number

DRAIN_SEC = 3.0
# The goodbye, the post-call wait and the server's stop grace, on a loaded machine.
EXIT_MARGIN_SEC = 20.0
CLAIM = [
    {"name": "incident_datetime", "type": "datetime", "description": "when it happened"},
    {"name": "incident_description", "type": "text", "description": "what happened"},
    {"name": "policyholder_email", "type": "email", "description": "your e-mail address"},
]
LINES: list[Any] = [
    "It happened on the third of March at 10 am.",
    "A tree fell on the fence.",
    {"silence": True},  # the dialer is told to stop here; the caller is thinking
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("drain")
    with started_cluster(
        root,
        {
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "2",
            "SWITCHBOARD__DIALER__DRAIN_TIMEOUT_SEC": str(DRAIN_SEC),
            # No silence prompt may end the call before the drain does.
            "SWITCHBOARD__FEATURES__PHONE_SILENCE_TIMEOUT_SEC": "60",
        },
    ) as cluster:
        yield cluster


def test_a_dialer_told_to_stop_mid_call_says_goodbye_stores_the_call_drained_and_exits_0(
    cluster: Cluster,
) -> None:
    dialer = cluster.processes["dialer"]
    signalled: list[float] = []

    def sigterm_before_the_silence(index: int) -> None:
        if index == 2:
            dialer.send_signal(signal.SIGTERM)
            signalled.append(time.monotonic())

    scenario = {"phone_number": unique_number(), "request": {"claim": CLAIM}, "customer": LINES}
    result = simulate(cluster, scenario, before_line=sigterm_before_the_silence)
    call = result.call

    assert signalled, "the call ended before the dialer was signalled"
    assert result.end_reason == "drained"
    assert (call["state"], call["state_reason"]) == ("ended", "drained")
    goodbye = [m for m in call["messages"] if m["persona"] == "assistant"][-1]
    assert "have to end this call" in goodbye["content"]
    assert ("bot", goodbye["content"]) in result.heard  # the caller heard what was stored
    assert call["claim"] == {
        "incident_datetime": "2026-03-03T10:00:00-08:00",
        "incident_description": "A tree fell on the fence.",
    }
    assert call["synthesis"]["short"]
    assert len(syntheses_of(cluster, call["call_id"])) == 1

    try:
        code = dialer.wait(
            timeout=max(0.1, signalled[0] + DRAIN_SEC + EXIT_MARGIN_SEC - time.monotonic())
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the dialer still runs {DRAIN_SEC + EXIT_MARGIN_SEC:.0f} s after SIGTERM")
    assert code == 0
    cluster.processes.pop("dialer")
