"""Owned asyncio tasks, in one place: every service builds its concurrency from these.

* :class:`TaskOwner` — the named tasks one object owns; closing it cancels them.
* :func:`cancel_and_wait` — cancellation that never waits forever (and says so).
* :func:`run_until_first_ends` / :func:`run_duplex` — sides of one exchange under
  one supervisor: the first to end cancels the others, and its error is re-raised.
* :class:`Timer` — a re-armable one-shot timer on the injected clock.
* :func:`wait_on_clock` — waits for a future for at most a time of the injected clock.
* :class:`ReconnectLoop` — keeps a stream open, reopening it after retryable errors
  with a capped backoff, until it stays away longer than its reconnect timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any, NoReturn, TypeVar

from switchboard.clock import Clock
from switchboard.errors import Unavailable
from switchboard.grpc_edge import is_retryable

log = logging.getLogger(__name__)

T = TypeVar("T")

STOP_TIMEOUT_SEC = 5.0


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], wait_sec: float = STOP_TIMEOUT_SEC
) -> None:
    """Cancels the tasks and waits for them; logs the names of any that outlive ``wait_sec``.

    The calling task is never among those cancelled (a task may close its own owner).
    """
    current = asyncio.current_task()
    pending = [t for t in tasks if not t.done() and t is not current]
    for task in pending:
        task.cancel()
    if not pending:
        return
    _, still_running = await asyncio.wait(pending, timeout=wait_sec)
    if still_running:
        log.warning(
            "tasks did not stop in time",
            extra={"tasks": sorted(t.get_name() for t in still_running), "wait_sec": wait_sec},
        )


class TaskOwner:
    """The named tasks one object owns; :meth:`close` cancels them and waits (with a timeout).

    A task that fails is logged with its name when it ends; nobody else awaits it.
    """

    def __init__(self, owner: str, wait_sec: float = STOP_TIMEOUT_SEC) -> None:
        self.owner = owner
        self._wait_sec = wait_sec
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Starts ``work`` as the task ``<owner>-<name>``."""
        task = asyncio.get_running_loop().create_task(work, name=f"{self.owner}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    @property
    def running(self) -> int:
        return len(self._tasks)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("task failed", exc_info=exc, extra={"task": task.get_name()})

    async def close(self) -> None:
        """Cancels every task still running (except the caller's own) and waits for them."""
        await cancel_and_wait(list(self._tasks), self._wait_sec)


async def run_until_first_ends(
    name: str, sides: Mapping[str, Coroutine[Any, Any, None]], wait_sec: float = STOP_TIMEOUT_SEC
) -> None:
    """Runs the sides as tasks ``<name>-<side>``; the first to end cancels the others.

    Re-raises the error of a side that failed, so a reconnect loop outside can
    decide whether it is retryable.
    """
    tasks = [asyncio.create_task(work, name=f"{name}-{side}") for side, work in sides.items()]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await cancel_and_wait(tasks, wait_sec)
    for task in done:
        if not task.cancelled() and (exc := task.exception()) is not None:
            raise exc


async def run_duplex(
    name: str, send: Coroutine[Any, Any, None], receive: Coroutine[Any, Any, None]
) -> None:
    """A stream's send and receive sides under one supervisor (:func:`run_until_first_ends`)."""
    await run_until_first_ends(name, {"send": send, "receive": receive})


class Timer:
    """A one-shot timer that can be re-armed: arming again restarts the wait.

    ``on_expiry`` runs inside the timer's own task; by then the timer counts as
    disarmed, so it may re-arm or disarm itself.
    """

    def __init__(
        self, name: str, on_expiry: Callable[[], Awaitable[None] | None], clock: Clock
    ) -> None:
        self.name = name
        self._on_expiry = on_expiry
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    @property
    def armed(self) -> bool:
        return self._task is not None

    def arm(self, delay_sec: float) -> None:
        """Starts the wait afresh: ``on_expiry`` runs ``delay_sec`` from now unless disarmed."""
        self.disarm()
        self._task = asyncio.get_running_loop().create_task(
            self._expire_after(delay_sec), name=self.name
        )

    def disarm(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def close(self) -> None:
        """Disarms and waits for a running expiry to finish being cancelled."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait([task])

    async def _expire_after(self, delay_sec: float) -> None:
        await self._clock.sleep(delay_sec)
        self._task = None
        result = self._on_expiry()
        if result is not None:
            await result


async def wait_on_clock(future: asyncio.Future[T], timeout_sec: float, clock: Clock) -> T:
    """The future's result, waiting at most ``timeout_sec`` of ``clock`` time.

    Raises ``TimeoutError`` when the time ran out first. The future itself is never
    cancelled (by the timeout or by cancelling the waiter): whoever owns it settles it.
    """
    timer: asyncio.Future[Any] = asyncio.ensure_future(clock.sleep(timeout_sec))
    racers: list[asyncio.Future[Any]] = [future, timer]
    try:
        await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
    if not future.done():
        raise TimeoutError
    return future.result()


class ReconnectLoop:
    """Keeps one stream open for as long as its owner runs.

    :meth:`run` calls ``open_once(reconnect)`` again whenever a stream ends or
    fails with a retryable error (anything else is re-raised), backing off from
    ``backoff_start_sec`` doubling up to ``backoff_max_sec``. A stream that stayed
    up ``healthy_sec``, or that the owner marked with :meth:`alive`, was healthy:
    its loss starts a new outage. An outage longer than ``reconnect_timeout_sec``
    raises ``Unavailable`` (``gone_message``).
    """

    def __init__(
        self,
        name: str,
        reconnect_timeout_sec: float,
        clock: Clock,
        *,
        closed_message: str,
        gone_message: str,
        backoff_start_sec: float = 0.1,
        backoff_max_sec: float = 1.0,
        healthy_sec: float = 1.0,
        log_extra: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._reconnect_timeout = reconnect_timeout_sec
        self._clock = clock
        self._closed_message = closed_message
        self._gone_message = gone_message
        self._backoff_start = backoff_start_sec
        self._backoff_max = backoff_max_sec
        self._healthy_sec = healthy_sec
        self._log_extra = dict(log_extra or {})
        self._alive = False
        self.reconnects = 0

    def alive(self) -> None:
        """The current stream showed a sign of life (an event): it counts as healthy."""
        self._alive = True

    async def run(self, open_once: Callable[[bool], Awaitable[None]]) -> NoReturn:
        """Runs ``open_once`` until cancelled; raises when the stream stays away."""
        reconnect = False
        backoff = self._backoff_start
        down_since: float | None = None
        while True:
            started = self._clock.monotonic()
            self._alive = False
            try:
                await open_once(reconnect)
                error: Exception = Unavailable(self._closed_message)
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                error = exc
            now = self._clock.monotonic()
            if self._alive or now - started >= self._healthy_sec:
                down_since, backoff = None, self._backoff_start
            if down_since is None:
                down_since = now
            elif now - down_since >= self._reconnect_timeout:
                raise Unavailable(self._gone_message)
            log.warning(
                "stream lost, reconnecting",
                extra={
                    **self._log_extra,
                    "stream": self.name,
                    "error": str(error),
                    "backoff_sec": backoff,
                },
            )
            await self._clock.sleep(backoff)
            backoff = min(backoff * 2, self._backoff_max)
            reconnect = True
            self.reconnects += 1
