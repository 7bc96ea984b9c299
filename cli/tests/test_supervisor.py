"""The supervisor's restart budget and rounds, on a hand-moved clock and stand-in children."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from switchboard_cli.launcher import ALL_SERVICES, Cluster
from switchboard_cli.supervisor import GaveUp, RestartBudget, RestartPolicy, Supervisor

POLICY = RestartPolicy(max_restarts=3, window_sec=60, backoff_start_sec=0.5, backoff_max_sec=1.5)


def test_each_restart_in_the_window_waits_twice_as_long_up_to_the_maximum() -> None:
    budget = RestartBudget(POLICY)

    assert [budget.next_delay(t) for t in (0, 1, 2)] == [0.5, 1.0, 1.5]


def test_one_restart_too_many_within_the_window_gives_up() -> None:
    budget = RestartBudget(POLICY)
    for t in (0, 1, 2):
        budget.next_delay(t)

    assert budget.next_delay(59) is None


def test_restarts_older_than_the_window_no_longer_count() -> None:
    budget = RestartBudget(POLICY)
    for t in (0, 1, 2):
        budget.next_delay(t)

    # At 61.5 s the restarts at 0 and 1 s have left the window; the one at 2 s counts.
    assert budget.next_delay(61.5) == 1.0
    assert budget.recent == 2


class StandIn:
    """A child process as the supervisor sees it: running until told its exit code."""

    def __init__(self) -> None:
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


class StandInCluster(Cluster):
    """Starting a service makes a new stand-in; ``started`` counts the starts."""

    def __init__(self, root: Path) -> None:
        super().__init__(data_dir=root)
        self.started: list[str] = []

    def start_service(self, service: str) -> None:
        self.started.append(service)
        self.processes[service] = StandIn()  # type: ignore[assignment]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cluster(tmp_path: Path) -> StandInCluster:
    cluster = StandInCluster(tmp_path)
    for service in ALL_SERVICES:
        cluster.start_service(service)
    cluster.started.clear()
    return cluster


def die(cluster: StandInCluster, service: str, code: int = -9) -> None:
    cluster.processes[service].returncode = code  # type: ignore[attr-defined]


def test_a_dead_service_is_restarted_after_its_back_off_and_logged_with_name_and_code(
    cluster: StandInCluster, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    supervisor = Supervisor(cluster, POLICY, monotonic=clock)
    die(cluster, "brain")

    with caplog.at_level(logging.WARNING):
        supervisor.check()
    clock.now = 0.4
    supervisor.check()
    assert cluster.started == []  # still backing off
    clock.now = 0.5
    supervisor.check()

    assert cluster.started == ["brain"]
    assert cluster.processes["brain"].poll() is None
    assert "brain exited with code -9" in caplog.text


def test_a_service_that_keeps_dying_makes_the_supervisor_give_up_naming_it(
    cluster: StandInCluster,
) -> None:
    clock = Clock()
    supervisor = Supervisor(cluster, POLICY, monotonic=clock)
    for _ in range(POLICY.max_restarts):
        die(cluster, "dialer", code=1)
        supervisor.check()
        clock.now += POLICY.backoff_max_sec
        supervisor.check()
    assert cluster.started == ["dialer"] * POLICY.max_restarts

    die(cluster, "dialer", code=1)
    with pytest.raises(GaveUp, match="dialer keeps exiting") as gave_up:
        supervisor.check()
    assert (gave_up.value.service, gave_up.value.exit_code) == ("dialer", 1)


def test_the_other_services_are_left_alone_while_one_restarts(cluster: StandInCluster) -> None:
    clock = Clock()
    supervisor = Supervisor(cluster, POLICY, monotonic=clock)
    others = {s: cluster.processes[s] for s in ALL_SERVICES if s != "speech"}
    die(cluster, "speech")

    supervisor.check()
    clock.now = 10
    supervisor.check()

    assert cluster.started == ["speech"]
    assert all(cluster.processes[s] is proc for s, proc in others.items())


class Stoppable(StandIn):
    """A stand-in that records when it was told to stop and how long it was waited for."""

    def __init__(self, log: list[tuple[str, float | None]], service: str) -> None:
        super().__init__()
        self._log = log
        self._service = service

    def send_signal(self, signum: int) -> None:
        self.returncode = 0

    def wait(self, timeout: float | None = None) -> int:
        self._log.append((self._service, timeout))
        return 0


def test_stopping_the_cluster_stops_the_dialer_first_with_its_drain_grace_then_the_rest(
    tmp_path: Path,
) -> None:
    cluster = Cluster(data_dir=tmp_path, dialer_stop_timeout_sec=90)
    stopped: list[tuple[str, float | None]] = []
    for service in ALL_SERVICES:
        cluster.processes[service] = Stoppable(stopped, service)  # type: ignore[assignment]

    codes = cluster.stop()

    assert [service for service, _ in stopped] == ["dialer", "gateway", "speech", "brain", "store"]
    assert stopped[0] == ("dialer", 90)
    assert codes == dict.fromkeys(ALL_SERVICES, 0)
    assert cluster.processes == {}
