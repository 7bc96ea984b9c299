"""Named, owned asyncio tasks: every task of the SIP stack belongs to one of these."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)
CANCEL_TIMEOUT_SEC = 2.0


class TaskSet:
    """The tasks one object owns; :meth:`close` cancels them and waits (with a timeout)."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._owner}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error(
                "sip task failed",
                exc_info=exc,
                extra={"task": task.get_name()},
            )

    async def close(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=CANCEL_TIMEOUT_SEC)
        if pending:
            log.warning(
                "sip tasks did not stop in time",
                extra={"tasks": sorted(t.get_name() for t in pending)},
            )
