"""``switchboard run`` keeps its services up, gives up on one that keeps dying, stops cleanly."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard_cli.launcher import ALL_SERVICES, GRPC_SERVICES, Cluster, ClusterPorts, grpc_ready
from switchboard_cli.supervisor import RestartPolicy, Supervisor

WAIT_SEC = 60.0


def wait_for(check: object, what: str, timeout: float = WAIT_SEC) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[tuple[Supervisor, threading.Event]]:
    cluster = Cluster(
        ports=ClusterPorts.free(),
        api_key=secrets.token_urlsafe(16),
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "logs",
        env={"SWITCHBOARD_CONFIG": str(tmp_path / "switchboard.yaml")},
    )
    supervisor = Supervisor(cluster, RestartPolicy(backoff_start_sec=0.2))
    supervisor.start()
    stopping = threading.Event()
    watcher = threading.Thread(target=supervisor.watch, args=(stopping.is_set,), daemon=True)
    watcher.start()
    try:
        yield supervisor, stopping
    finally:
        stopping.set()
        watcher.join(5)
        cluster.stop()


def test_a_service_killed_under_supervision_comes_back_and_the_others_are_untouched(
    supervised: tuple[Supervisor, threading.Event],
) -> None:
    supervisor, _ = supervised
    cluster = supervisor.cluster
    before = {service: proc.pid for service, proc in cluster.processes.items()}

    os.kill(before["brain"], signal.SIGKILL)

    wait_for(lambda: cluster.processes["brain"].pid != before["brain"], "a new brain process")
    wait_for(lambda: grpc_ready(cluster.ports.grpc_address("brain")), "the brain SERVING again")
    after = {service: proc.pid for service, proc in cluster.processes.items()}
    assert {s: p for s, p in after.items() if s != "brain"} == {
        s: p for s, p in before.items() if s != "brain"
    }
    assert all(cluster.processes[s].poll() is None for s in ALL_SERVICES)


def run_command(root: Path, ports: ClusterPorts, *args: str, **env: str) -> subprocess.Popen[str]:
    """``switchboard run`` on free ports, its var/ under ``root``."""
    environment = dict(os.environ)
    for service in GRPC_SERVICES:
        environment[f"SWITCHBOARD__SERVICES__{service.upper()}"] = ports.grpc_address(service)
    environment["SWITCHBOARD__GATEWAY__PORT"] = str(ports.gateway)
    environment["SWITCHBOARD_CONFIG"] = str(root / "switchboard.yaml")
    environment.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "switchboard_cli", "run", *args],
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_run_exits_non_zero_naming_a_service_that_keeps_failing_at_start(tmp_path: Path) -> None:
    ports = ClusterPorts.free()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))  # the dialer's SIP port is in use: it cannot boot
        run = run_command(
            tmp_path,
            ports,
            "--max-restarts",
            "2",
            SWITCHBOARD__DIALER__TELEPHONY="sip",
            SWITCHBOARD__DIALER__SIP__BIND_PORT=str(taken.getsockname()[1]),
        )
        try:
            output, _ = run.communicate(timeout=WAIT_SEC)
        finally:
            run.kill()

    assert run.returncode == 1, output
    assert "dialer keeps exiting" in output
    assert output.count("service dialer exited with code 1") == 2  # two restarts, then no more
    assert not grpc_ready(ports.grpc_address("store"))  # the others were stopped too


def test_sigterm_to_run_stops_every_service_and_exits_0(tmp_path: Path) -> None:
    ports = ClusterPorts.free()
    run = run_command(tmp_path, ports)
    try:
        wait_for(lambda: all(grpc_ready(ports.grpc_address(s)) for s in GRPC_SERVICES), "run")

        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=WAIT_SEC)
    finally:
        run.kill()

    assert run.returncode == 0, output
    assert "Stopping" in output
    assert not any(grpc_ready(ports.grpc_address(s)) for s in GRPC_SERVICES)
