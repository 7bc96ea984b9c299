"""``TurnTrace``: one span per turn of a call, from the caller's turn to the bot's answer.

A turn opens when the caller's turn goes to the brain and ends when the answer
reached the caller in full (``played``), was talked over (``interrupted``), or
the caller spoke again first (``superseded``). On a text line the answer latency
is measured here (turn sent → first sentence out); a voice line measures it at
its first played frame (:mod:`switchboard_dialer.media.voice`).
"""

from __future__ import annotations

import logging
import time

from opentelemetry.trace import Span

from switchboard import telemetry
from switchboard.clock import Clock
from switchboard.telemetry_metrics import ANSWER_LATENCY

log = logging.getLogger(__name__)


class TurnTrace:
    """The open turn span of one call, and its answer latency on a text line."""

    def __init__(self, call_id: str, clock: Clock) -> None:
        self._call_id = call_id
        self._clock = clock
        self._count = 0
        self._span: Span | None = None
        self._answer_turn = ""  # the agent turn answering the open caller turn
        self._sent_at: float | None = None
        self._sent_mono = 0.0
        self._answered: set[str] = set()
        self.measure_answer = False  # set on a text line

    def caller_turn(self, turn_id: str) -> None:
        self._close("superseded")
        self._count += 1
        self._span = telemetry.start_span(
            "turn", {"call.id": self._call_id, "turn.id": turn_id, "turn.index": self._count}
        )
        self._answer_turn = ""
        self._sent_at = self._clock.monotonic()
        self._sent_mono = time.monotonic()

    def sentence_out(self, agent_turn_id: str) -> None:
        """A sentence of ``agent_turn_id`` went to the output."""
        if self._span is None or self._answer_turn or agent_turn_id in self._answered:
            return
        self._answer_turn = agent_turn_id
        self._answered.add(agent_turn_id)
        if self.measure_answer and self._sent_at is not None:
            ANSWER_LATENCY.record(self._clock.monotonic() - self._sent_at, {"call.mode": "text"})
        self._span.add_event("first sentence")
        # The brain's share of the answer; ``sent_at``/``at`` on the system's monotonic
        # clock line up with the voice line's "bot answering" breakdown.
        now = time.monotonic()
        log.info(
            "turn first sentence",
            extra={
                "call_id": self._call_id,
                "turn_id": agent_turn_id,
                "sent_at": self._sent_mono,
                "at": now,
            },
        )

    def agent_turn_ended(self, agent_turn_id: str, outcome: str) -> None:
        if self._span is not None and agent_turn_id == self._answer_turn:
            self._close(outcome)

    def close(self) -> None:
        self._close("call_ended")

    def _close(self, outcome: str) -> None:
        if self._span is not None:
            telemetry.set_attributes(self._span, {"turn.outcome": outcome})
            self._span.end()
            self._span = None
