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
from switchboard.service_main import LISTEN_ENV

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


def replica_name(service: str, index: int) -> str:
    """``dialer`` for a service's first process, ``dialer-2``, ``dialer-3`` … for the others."""
    return service if index == 1 else f"{service}-{index}"


def service_of(name: str) -> str:
    """The service a process name (:func:`replica_name`) runs."""
    return name.partition("-")[0]


@dataclass
class Cluster:
    """The five services as child processes on the given ports.

    ``env`` is added to every child's environment (``SWITCHBOARD__…`` overrides);
    ``log_dir`` receives one log file per service, or logs go to this process's
    stderr when it is None. ``dialer_stop_timeout_sec`` is how long the dialer may
    drain its calls before it is killed. With ``own_process_groups`` a Ctrl-C in the
    terminal reaches only this process, which then stops the children in order.

    ``replicas`` runs that many processes of a service (default one each), the first on
    its port in ``ports``, the others (named ``dialer-2`` …, see :func:`replica_name`) on
    free ports. Clients are given every replica's address as a list, so they balance
    over them (``round_robin``); each dialer replica has its own ``dialer.replica_id``.
    Process names are what :meth:`kill`, :meth:`restart` and :attr:`processes` take.
    """

    ports: ClusterPorts = field(default_factory=ClusterPorts)
    api_key: str = ""
    data_dir: Path = Path("var")
    env: Mapping[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    dialer_stop_timeout_sec: float = STOP_TIMEOUT_SEC
    own_process_groups: bool = False
    replicas: Mapping[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: dict[str, IO[bytes]] = field(default_factory=dict)
    _replica_ports: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.replicas) - set(ALL_SERVICES)
        if unknown or any(count < 1 for count in self.replicas.values()):
            raise ValueError(f"replicas: one or more of each of {', '.join(ALL_SERVICES)}")
        for service in ALL_SERVICES:
            for name in self.replica_names(service)[1:]:
                self._replica_ports[name] = free_port()

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    @property
    def gateway_urls(self) -> list[str]:
        """Every gateway replica's base URL, the first one's first."""
        return [f"http://127.0.0.1:{self.port_of(n)}" for n in self.replica_names("gateway")]

    def replica_names(self, service: str) -> list[str]:
        return [replica_name(service, i) for i in range(1, self.replicas.get(service, 1) + 1)]

    def port_of(self, name: str) -> int:
        """The port the process ``name`` (a service or one of its replicas) listens on."""
        port = self._replica_ports.get(name)
        return int(getattr(self.ports, name)) if port is None else port

    def grpc_addresses(self, service: str) -> list[str]:
        """Every replica's ``host:port`` of a gRPC service."""
        return [f"127.0.0.1:{self.port_of(name)}" for name in self.replica_names(service)]

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        for service in GRPC_SERVICES:
            addresses = self.grpc_addresses(service)
            # One address as it is; several as a YAML list (a round_robin target).
            value = addresses[0] if len(addresses) == 1 else f"[{', '.join(addresses)}]"
            env[f"SWITCHBOARD__SERVICES__{service.upper()}"] = value
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

    def replica_env(self, name: str) -> dict[str, str]:
        """The child environment of the process ``name``: :meth:`child_env` plus where
        this replica listens and, for a dialer, its own replica id."""
        env = self.child_env()
        service = service_of(name)
        if service == "gateway":
            env["SWITCHBOARD__GATEWAY__PORT"] = str(self.port_of(name))
        elif len(self.replica_names(service)) > 1:
            env[LISTEN_ENV] = f"127.0.0.1:{self.port_of(name)}"
            if service == "dialer":
                # As a pod's IP: gateways reach the replica that runs a call directly.
                env["SWITCHBOARD__DIALER__ADVERTISE_ADDRESS"] = env[LISTEN_ENV]
        if service == "dialer" and name != service:
            env["SWITCHBOARD__DIALER__REPLICA_ID"] += name.removeprefix(service)
        return env

    def start_service(self, name: str) -> None:
        """Starts the process ``name``: a service, or one of its replicas."""
        if self.log_dir is not None:
            private_dir(self.log_dir)  # logs name calls: the owner's alone
            previous = self._logs.pop(name, None)
            if previous is not None:  # a restart
                previous.close()
            self._logs[name] = open_private_log(self.log_dir / f"{name}.log")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", f"switchboard_{service_of(name)}"],
            env=self.replica_env(name),
            stdout=self._logs.get(name),
            stderr=subprocess.STDOUT if name in self._logs else None,
            process_group=0 if self.own_process_groups else None,
        )

    def is_ready(self, name: str) -> bool:
        if service_of(name) == "gateway":
            return http_ready(f"http://127.0.0.1:{self.port_of(name)}")
        return grpc_ready(f"127.0.0.1:{self.port_of(name)}")

    def all_processes(self) -> list[str]:
        """Every process name, dependencies first."""
        return [name for service in ALL_SERVICES for name in self.replica_names(service)]

    def wait_ready(
        self, services: tuple[str, ...] | None = None, timeout: float = READY_TIMEOUT_SEC
    ) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.all_processes() if services is None else services)
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
        for name in self.all_processes():
            self.start_service(name)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def kill(self, name: str) -> None:
        """Kills a service (or one replica) abruptly (SIGKILL), as a crash would."""
        proc = self.processes.pop(name)
        proc.kill()
        proc.wait()

    def restart(self, name: str) -> None:
        self.start_service(name)
        self.wait_ready((name,))

    def stop(self) -> dict[str, int]:
        """Stops the services one by one in :data:`STOP_ORDER` (SIGTERM to each of a
        service's replicas, then SIGKILL after the service's grace); returns each process's
        exit code."""
        codes: dict[str, int] = {}
        groups = [[n for n in self.replica_names(s) if n in self.processes] for s in STOP_ORDER]
        named = {n for group in groups for n in group}
        groups += [[n] for n in self.processes if n not in named]
        for group in groups:
            for name in group:
                if self.processes[name].poll() is None:
                    self.processes[name].send_signal(signal.SIGTERM)
            for name in group:
                codes[name] = self._wait_stopped(name)
        self._forget_processes()
        return codes

    def _wait_stopped(self, name: str) -> int:
        proc = self.processes[name]
        grace = self.dialer_stop_timeout_sec if service_of(name) == "dialer" else STOP_TIMEOUT_SEC
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log.warning("service did not stop in time; killing it", extra={"service": name})
            proc.kill()
            return proc.wait()

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
