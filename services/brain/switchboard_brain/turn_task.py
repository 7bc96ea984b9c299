"""The one agent turn a conversation is working on, as a cancellable task.

A call's session starts each turn here; the turn is cancelled by the dialer
(``CancelAgentTurn``: the caller barged in), by a newer caller turn and by the
hang-up. Cancelling waits for the turn's cleanup (closing the model stream,
storing what was already said) so the next turn's writes come after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing

from switchboard.converse import AgentSentence, AgentTurnDone, ConverseResponse
from switchboard.tasks import cancel_and_wait

log = logging.getLogger(__name__)

CANCEL_WAIT_SEC = 2.0

Emit = Callable[[ConverseResponse], None]
Fail = Callable[[Exception], None]


class TurnTask:
    """Runs at most one turn at a time; its events go to ``emit``, its failure to ``fail``."""

    def __init__(self, call_id: str, emit: Emit, fail: Fail) -> None:
        self._call_id = call_id
        self._emit = emit
        self._fail = fail
        self._task: asyncio.Task[None] | None = None
        self._turn_id = ""
        self._spoke = False  # the running turn sent a sentence

    @property
    def turn_id(self) -> str:
        """The running turn's id; empty when none runs."""
        return self._turn_id if self._task is not None and not self._task.done() else ""

    async def start(self, turn_id: str, events: AsyncGenerator[ConverseResponse, None]) -> None:
        """Cancels the running turn (a newer one replaces it), then runs ``events``.

        The dialer did not ask for that cancel: a replaced turn that already sent
        sentences still ends with ``AgentTurnDone`` (without its actions), so the
        dialer knows it is over."""
        await self.supersede(turn_id)
        self._turn_id = turn_id
        self._spoke = False
        self._task = asyncio.create_task(
            self._drive(events), name=f"brain-turn-{self._call_id}-{turn_id}"
        )

    async def supersede(self, turn_id: str) -> None:
        """Stops the running turn before turn ``turn_id`` is planned, so the plan sees
        what the stopped turn committed (a resend of the same id then replays the stored
        answer instead of deciding it again on top of it). A replaced turn of another
        id that already sent sentences is closed with ``AgentTurnDone``."""
        replaced, spoke = self.turn_id, self._spoke
        await self.cancel("newer_turn")
        if replaced and spoke and replaced != turn_id:
            self._emit(AgentTurnDone(replaced))
        self._spoke = False

    async def cancel(self, why: str, turn_id: str = "") -> None:
        """Stops the running turn (only if it is ``turn_id``, when given) and waits for it."""
        task = self._task
        if task is None or task.done() or (turn_id and turn_id != self._turn_id):
            return
        log.info(
            "agent turn cancelled",
            extra={"call_id": self._call_id, "turn_id": self._turn_id, "why": why},
        )
        await cancel_and_wait([task], CANCEL_WAIT_SEC)

    async def wait(self) -> None:
        """Until the running turn (if any) is done."""
        if self._task is not None:
            await asyncio.wait({self._task})

    async def _drive(self, events: AsyncGenerator[ConverseResponse, None]) -> None:
        try:
            async with aclosing(events):
                async for event in events:
                    self._spoke = self._spoke or isinstance(event, AgentSentence)
                    self._emit(event)
        except Exception as exc:
            self._fail(exc)
