"""The Converse duplex: a named receive task feeding a send queue.

The receive task reads the dialer's events in order and lets the session answer
each; the response side drains the queue. Whichever side ends first ends the
other: the caller hanging up or the dialer closing its side ends the receive task,
which closes the queue; the dialer cancelling the RPC cancels the response side,
which cancels the receive task in ``finally``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from switchboard.converse import CallerHangup, ConversationStart, ConverseRequest, ConverseResponse
from switchboard_brain.session import ConversationSession

log = logging.getLogger(__name__)

CANCEL_WAIT_SEC = 2.0


@dataclass(frozen=True)
class _Closed:
    """The receive side is done; ``error`` when it failed."""

    error: Exception | None = None


async def converse(
    session: ConversationSession,
    start: ConversationStart,
    inbound: AsyncIterator[ConverseRequest],
) -> AsyncIterator[ConverseResponse]:
    """The agent events of one stream, until the caller hangs up or the dialer closes."""
    # Unbounded on purpose: a turn is a handful of sentences, and the receive side
    # must never block behind a slow reader while holding a store write.
    queue: asyncio.Queue[ConverseResponse | _Closed] = asyncio.Queue()

    async def receive() -> None:
        try:
            async for event in session.start(start):
                queue.put_nowait(event)
            async for inbound_event in inbound:
                async for event in session.handle(inbound_event):
                    queue.put_nowait(event)
                if isinstance(inbound_event, CallerHangup):
                    break
        except Exception as exc:
            queue.put_nowait(_Closed(exc))
            return
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
        if not receiver.done():
            receiver.cancel()
            done, _ = await asyncio.wait({receiver}, timeout=CANCEL_WAIT_SEC)
            if not done:
                log.warning(
                    "receive task did not stop in time",
                    extra={"call_id": call_id, "wait_sec": CANCEL_WAIT_SEC},
                )
