"""The caller's message of the running turn, on its way to the store.

It is not written on its own at the start of the turn any more: that put a second
durable write (and, on SQLite, a second fsync queued behind the first) in front of
every answer. Instead it rides with the turn's first claim update, in the same
transaction (the claim never holds a value whose words the transcript lacks, and
one commit makes both durable); a turn that updates no claim appends it in the
background once its first sentence is out, since the bot does not act on it. Either
way it is stored before the agent's message of the turn and before ``turn_done``,
and a cancelled turn still keeps it. A brain that dies before it was stored gets the
turn again from the dialer (no ``turn_done`` yet), which stores it then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from switchboard.domain import Message
from switchboard_brain.store import CallStore

log = logging.getLogger(__name__)


class CallerMessage:
    """One turn's caller message: pending, riding with a write, or stored."""

    def __init__(
        self,
        store: CallStore,
        call_id: str,
        message: Message | None,
        remember: Callable[[Message], None],
    ) -> None:
        self._store = store
        self._call_id = call_id
        self._pending = message  # not yet handed to any write
        self._remember = remember
        self._append: asyncio.Task[None] | None = None

    def take(self) -> list[Message]:
        """The message, for a write that will carry it (empty when already on its way);
        :meth:`carried` or :meth:`give_back` must follow."""
        message, self._pending = self._pending, None
        return [message] if message is not None else []

    def carried(self, messages: list[Message]) -> None:
        """The write that took ``messages`` committed."""
        for message in messages:
            self._remember(message)

    def give_back(self, messages: list[Message]) -> None:
        """The write that took ``messages`` failed (or may not have committed): pending
        again (storing it twice is harmless: the store keeps one per turn id)."""
        if messages and self._pending is None:
            self._pending = messages[0]

    def send(self) -> None:
        """Appends the pending message in the background (the reply does not wait)."""
        if self._pending is None or (self._append is not None and not self._append.done()):
            return
        message, self._pending = self._pending, None
        self._append = asyncio.create_task(
            self._store_alone(message), name=f"brain-store-caller-{message.turn_id}"
        )

    async def stored(self) -> None:
        """Until the message is durable (appending it now if still pending); raises
        the store's error if it could not be."""
        self.send()
        while self._append is not None:
            await self._append
            if self._pending is None:
                return
            self.send()  # given back by a write that failed meanwhile: once more

    async def keep(self, timeout_sec: float) -> None:
        """A cancelled turn keeps the caller's words: stored within ``timeout_sec``."""
        self.send()
        if self._append is not None:
            await asyncio.wait({self._append}, timeout=timeout_sec)

    async def drop(self, timeout_sec: float) -> None:
        """A failed turn: stops the background append, if any."""
        if self._append is not None and not self._append.done():
            self._append.cancel()
            await asyncio.wait({self._append}, timeout=timeout_sec)

    async def _store_alone(self, message: Message) -> None:
        stored = await self._store.append_messages(self._call_id, [message])
        for kept in stored:
            self._remember(kept)
