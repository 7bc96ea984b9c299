"""The Converse duplex: a named receive task feeding a send queue.

The receive task reads the dialer's events in order and hands each to the
session, which runs the agent turn it starts as its own task: the next event is
read at once, so a barge-in (``CancelAgentTurn``), a newer caller turn or the
hang-up reaches a turn that is still being decided. The response side drains
the queue. Whichever side ends first ends the other: the caller hanging up or
the dialer closing its side ends the receive task, which closes the queue; the
dialer cancelling the RPC cancels the response side, which cancels the receive
task in ``finally``. A failing turn ends the stream with its error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from switchboard.converse import CallerHangup, ConversationStart, ConverseRequest, ConverseResponse
from switchboard.tasks import cancel_and_wait
from switchboard_brain.session import ConversationSession

log = logging.getLogger(__name__)

CANCEL_WAIT_SEC = 2.0


@dataclass(frozen=True)
class _Closed:
    """The receive side is done; ``error`` when it (or a turn) failed."""

    error: Exception | None = None


async def converse(
    session: ConversationSession,
    start: ConversationStart,
    inbound: AsyncIterator[ConverseRequest],
) -> AsyncIterator[ConverseResponse]:
    """The agent events of one stream, until the caller hangs up or the dialer closes."""
    # Unbounded on purpose: a turn is a handful of sentences, and the turn task
    # must never block behind a slow reader while holding a store write.
    queue: asyncio.Queue[ConverseResponse | _Closed] = asyncio.Queue()
    session.attach(queue.put_nowait, lambda exc: queue.put_nowait(_Closed(exc)))

    async def receive() -> None:
        try:
            await session.dispatch(start)
            async for event in inbound:
                await session.dispatch(event)
                if isinstance(event, CallerHangup):
                    break
            else:
                await session.wait()  # the dialer closed its side: finish the turn
        except Exception as exc:
            queue.put_nowait(_Closed(exc))
            return
        finally:
            await session.close()
        queue.put_nowait(_Closed())

    call_id = session.call.call_id
    receiver = asyncio.create_task(receive(), name=f"brain-converse-receive-{call_id}")
    try:
        while True:
            item = await queue.get()
            if isinstance(item, _Closed):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        await cancel_and_wait([receiver], CANCEL_WAIT_SEC)
