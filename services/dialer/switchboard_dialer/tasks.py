"""Owned tasks: a duplex supervisor and cancellation that never waits forever."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

log = logging.getLogger(__name__)

STOP_TIMEOUT_SEC = 5.0


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], wait_sec: float = STOP_TIMEOUT_SEC
) -> None:
    """Cancels the tasks and waits for them; logs the names of any that outlive ``wait_sec``."""
    pending_tasks = [t for t in tasks if not t.done()]
    for task in pending_tasks:
        task.cancel()
    if not pending_tasks:
        return
    _, still_running = await asyncio.wait(pending_tasks, timeout=wait_sec)
    if still_running:
        log.warning(
            "tasks did not stop in time",
            extra={"tasks": sorted(t.get_name() for t in still_running), "wait_sec": wait_sec},
        )


async def run_duplex(
    name: str, send: Coroutine[Any, Any, None], receive: Coroutine[Any, Any, None]
) -> None:
    """Runs a stream's send and receive sides; the first to end cancels the other.

    Re-raises the error of the side that failed, so the reconnect loop outside can
    decide whether it is retryable.
    """
    tasks = [
        asyncio.create_task(send, name=f"{name}-send"),
        asyncio.create_task(receive, name=f"{name}-receive"),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await cancel_and_wait(tasks)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
