"""How a call ends: the reason stored with ENDED, and what is done with the line."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from switchboard import domain
from switchboard.errors import SwitchboardError
from switchboard_dialer.ports import CallStore
from switchboard_dialer.telephony.base import PhoneLine

log = logging.getLogger(__name__)


class LineAction(StrEnum):
    HANG_UP = "hang_up"  # the bot ends the call
    TRANSFER = "transfer"  # the caller goes to a human
    NONE = "none"  # the caller is gone already


@dataclass(frozen=True)
class Ending:
    """How the call ends: the reason stored with ENDED, and what to do with the line."""

    reason: str
    action: LineAction = LineAction.HANG_UP
    target: str = ""


async def carry_out(ending: Ending, line: PhoneLine, store: CallStore, call_id: str) -> str:
    """Does what the ending asks of the line; returns the reason the call ended with."""
    if ending.action is LineAction.TRANSFER:
        try:
            await store.set_call_state(call_id, domain.CallState.TRANSFERRING, "transfer")
        except SwitchboardError as exc:
            log.warning(
                "transferring state not stored",
                extra={"call_id": call_id, "error": exc.message},
            )
        try:
            await line.transfer(ending.target)
        except SwitchboardError as exc:
            # The caller is still on the line and nobody runs the call any more:
            # hang up rather than leave them in silence.
            log.warning(
                "transfer failed, hanging up",
                extra={"call_id": call_id, "error": exc.message},
            )
            await line.hang_up("transfer_failed")
            return "transfer_failed"
    elif ending.action is LineAction.HANG_UP:
        await line.hang_up(ending.reason)
    return ending.reason
