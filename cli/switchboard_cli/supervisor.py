"""``switchboard run`` keeps its services up: a child that dies is restarted, with back-off.

A service that keeps dying (more than ``max_restarts`` restarts within ``window_sec``)
is not restarted again: :class:`GaveUp` names it, and ``run`` stops the others and
exits non-zero. The restart budget is plain arithmetic on the times given, so it is
tested without waiting.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from switchboard_cli.launcher import ALL_SERVICES, READY_TIMEOUT_SEC, Cluster

log = logging.getLogger(__name__)

# How often the children are looked at.
POLL_SEC = 0.2


@dataclass(frozen=True)
class RestartPolicy:
    """How often a dying service is restarted, and how long each restart waits."""

    max_restarts: int = 5
    window_sec: float = 60.0
    backoff_start_sec: float = 0.5
    backoff_max_sec: float = 10.0


class GaveUp(RuntimeError):
    """A service died more often than its restart budget allows."""

    def __init__(self, service: str, exit_code: int, restarts: int, window_sec: float) -> None:
        super().__init__(
            f"{service} keeps exiting (last exit code {exit_code}): restarted {restarts} "
            f"times within {window_sec:g} s; giving up"
        )
        self.service = service
        self.exit_code = exit_code


@dataclass
class RestartBudget:
    """One service's recent restarts; :meth:`next_delay` is the back-off, or None to give up."""

    policy: RestartPolicy
    _restarts: deque[float] = field(default_factory=deque)

    def next_delay(self, now: float) -> float | None:
        while self._restarts and now - self._restarts[0] > self.policy.window_sec:
            self._restarts.popleft()
        if len(self._restarts) >= self.policy.max_restarts:
            return None
        delay = self.policy.backoff_start_sec * 2.0 ** len(self._restarts)
        self._restarts.append(now)
        return min(delay, self.policy.backoff_max_sec)

    @property
    def recent(self) -> int:
        return len(self._restarts)


class Supervisor:
    """Starts the cluster's services and restarts any that dies; :meth:`check` does one round."""

    def __init__(
        self,
        cluster: Cluster,
        policy: RestartPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cluster = cluster
        self.policy = policy or RestartPolicy()
        self._monotonic = monotonic
        self._budgets = {service: RestartBudget(self.policy) for service in ALL_SERVICES}
        self._restart_at: dict[str, float] = {}  # dead services waiting out their back-off

    def start(self, timeout: float = READY_TIMEOUT_SEC) -> None:
        """Starts every service and waits until all are ready, restarting any that dies."""
        self.cluster.data_dir.mkdir(parents=True, exist_ok=True)
        for service in ALL_SERVICES:
            self.cluster.start_service(service)
        deadline = self._monotonic() + timeout
        pending = list(ALL_SERVICES)
        while True:
            self.check()
            pending = [s for s in pending if not self._running_and_ready(s)]
            if not pending:
                return
            if self._monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            time.sleep(POLL_SEC)

    def watch(self, stopping: Callable[[], bool]) -> None:
        """Supervises until ``stopping()`` is true; raises :class:`GaveUp`."""
        while not stopping():
            self.check()
            time.sleep(POLL_SEC)

    def check(self) -> None:
        """Restarts the services whose back-off is over; schedules those that just died."""
        now = self._monotonic()
        for service, proc in list(self.cluster.processes.items()):
            code = proc.poll()
            if code is None or service in self._restart_at:
                continue
            delay = self._budgets[service].next_delay(now)
            if delay is None:
                log.error(
                    "service %s keeps exiting (code %d); giving up",
                    service,
                    code,
                    extra={"service": service, "exit_code": code},
                )
                raise GaveUp(service, code, self.policy.max_restarts, self.policy.window_sec)
            log.warning(
                "service %s exited with code %d; restarting it in %.1f s",
                service,
                code,
                delay,
                extra={"service": service, "exit_code": code, "delay_sec": delay},
            )
            self._restart_at[service] = now + delay
        for service, when in list(self._restart_at.items()):
            if now >= when:
                del self._restart_at[service]
                self.cluster.start_service(service)

    def _running_and_ready(self, service: str) -> bool:
        proc = self.cluster.processes.get(service)
        if proc is None or proc.poll() is not None or service in self._restart_at:
            return False
        return self.cluster.is_ready(service)
