"""Starts the five services as local processes and waits until each one is ready.

Used by ``switchboard run``, by ``switchboard simulate`` when nothing is running,
by the cross-service tests and by the benchmarks. Each service is its own
process, exactly as in production; only the addresses are local.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from switchboard.internal_auth import internal_auth
from switchboard.private_files import open_private_log, private_dir

log = logging.getLogger(__name__)

GRPC_SERVICES = ("store", "brain", "speech", "dialer")  # in start order: dependencies first
ALL_SERVICES = (*GRPC_SERVICES, "gateway")
# The dialer stops first and drains its live calls while everything they need still
# runs; then each service before the ones it depends on.
STOP_ORDER = ("dialer", "gateway", "speech", "brain", "store")
READY_TIMEOUT_SEC = 60.0
# The dialer's replica name (``dialer.replica_id``) unless the environment sets one.
LOCAL_DIALER = "local-dialer"
STOP_TIMEOUT_SEC = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ClusterPorts:
    store: int = 50054
    brain: int = 50053
    speech: int = 50052
    dialer: int = 50051
    gateway: int = 8080

    @classmethod
    def free(cls) -> ClusterPorts:
        return cls(*(free_port() for _ in range(5)))

    def grpc_address(self, service: str) -> str:
        return f"127.0.0.1:{getattr(self, service)}"


def _health_channel(address: str) -> grpc.Channel:
    # The health service needs no token, but with mTLS on it is behind TLS like the rest.
    auth = internal_auth()
    credentials = auth.channel_credentials()
    if credentials is None:
        return grpc.insecure_channel(address)
    return grpc.secure_channel(address, credentials, options=auth.channel_options())


def grpc_ready(address: str, timeout: float = 0.5) -> bool:
    """True when the service at ``address`` answers its health check with SERVING (over
    this process's internal auth: the services' config must match it)."""
    try:
        with _health_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout
            )
    except grpc.RpcError:
        return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def http_ready(url: str, timeout: float = 0.5) -> bool:
    try:
        return httpx.get(f"{url}/health/liveness", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Cluster:
    """The five services as child processes on the given ports.

    ``env`` is added to every child's environment (``SWITCHBOARD__…`` overrides);
    ``log_dir`` receives one log file per service, or logs go to this process's
    stderr when it is None. ``dialer_stop_timeout_sec`` is how long the dialer may
    drain its calls before it is killed. With ``own_process_groups`` a Ctrl-C in the
    terminal reaches only this process, which then stops the children in order.
    """

    ports: ClusterPorts = field(default_factory=ClusterPorts)
    api_key: str = ""
    data_dir: Path = Path("var")
    env: Mapping[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    dialer_stop_timeout_sec: float = STOP_TIMEOUT_SEC
    own_process_groups: bool = False
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: dict[str, IO[bytes]] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        for service in GRPC_SERVICES:
            env[f"SWITCHBOARD__SERVICES__{service.upper()}"] = self.ports.grpc_address(service)
        env["SWITCHBOARD__GATEWAY__PORT"] = str(self.ports.gateway)
        env["SWITCHBOARD__STORE__SQLITE_PATH"] = str(self.data_dir / "switchboard.db")
        # Recordings (recording.provider local) beside the database: the dialer writes
        # them, the gateway serves them, both on this machine.
        env["SWITCHBOARD__RECORDING__LOCAL_DIR"] = str(self.data_dir / "recordings")
        # One name across restarts: a dialer that comes back ends its dropped calls at once.
        env.setdefault("SWITCHBOARD__DIALER__REPLICA_ID", LOCAL_DIALER)
        if self.api_key:
            env["SWITCHBOARD__GATEWAY__API_KEYS"] = f"[{self.api_key}]"
        env.update(self.env)
        return env

    def start_service(self, service: str) -> None:
        if self.log_dir is not None:
            private_dir(self.log_dir)  # logs name calls: the owner's alone
            previous = self._logs.pop(service, None)
            if previous is not None:  # a restart
                previous.close()
            self._logs[service] = open_private_log(self.log_dir / f"{service}.log")
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", f"switchboard_{service}"],
            env=self.child_env(),
            stdout=self._logs.get(service),
            stderr=subprocess.STDOUT if service in self._logs else None,
            process_group=0 if self.own_process_groups else None,
        )

    def is_ready(self, service: str) -> bool:
        if service == "gateway":
            return http_ready(self.gateway_url)
        return grpc_ready(self.ports.grpc_address(service))

    def wait_ready(
        self, services: tuple[str, ...] = ALL_SERVICES, timeout: float = READY_TIMEOUT_SEC
    ) -> None:
        deadline = time.monotonic() + timeout
        pending = list(services)
        while pending:
            for service in list(pending):
                proc = self.processes.get(service)
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(
                        f"{service} exited with code {proc.returncode}{self._log_hint(service)}"
                    )
                if self.is_ready(service):
                    pending.remove(service)
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            if pending:
                time.sleep(0.05)

    def start(self) -> None:
        private_dir(self.data_dir)
        for service in ALL_SERVICES:
            self.start_service(service)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def kill(self, service: str) -> None:
        """Kills a service abruptly (SIGKILL), as a crash would."""
        proc = self.processes.pop(service)
        proc.kill()
        proc.wait()

    def restart(self, service: str) -> None:
        self.start_service(service)
        self.wait_ready((service,))

    def stop(self) -> dict[str, int]:
        """Stops the services one by one in :data:`STOP_ORDER` (SIGTERM, then SIGKILL after
        the service's grace); returns each one's exit code."""
        codes: dict[str, int] = {}
        order = [s for s in STOP_ORDER if s in self.processes]
        order += [s for s in self.processes if s not in order]
        for service in order:
            proc = self.processes[service]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            grace = self.dialer_stop_timeout_sec if service == "dialer" else STOP_TIMEOUT_SEC
            try:
                codes[service] = proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                log.warning("service did not stop in time; killing it", extra={"service": service})
                proc.kill()
                codes[service] = proc.wait()
        self._forget_processes()
        return codes

    def kill_all(self) -> None:
        """SIGKILL to every service at once (a second Ctrl-C while stopping)."""
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.kill()
        for proc in self.processes.values():
            proc.wait()
        self._forget_processes()

    def _forget_processes(self) -> None:
        self.processes.clear()
        for handle in self._logs.values():
            handle.close()
        self._logs.clear()

    def _log_hint(self, service: str) -> str:
        if self.log_dir is None:
            return ""
        path = self.log_dir / f"{service}.log"
        with contextlib.suppress(OSError):
            tail = path.read_text(errors="replace").splitlines()[-15:]
            return f"; last lines of {path}:\n" + "\n".join(tail)
        return ""


@contextlib.contextmanager
def running_cluster(cluster: Cluster) -> Iterator[Cluster]:
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
