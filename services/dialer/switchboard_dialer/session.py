"""``CallSession``: one connected call, from the answer to the hang-up.

Text mode: caller turns arrive whole from the line, and bot sentences go to the
line as text. The voice pipeline (``Speech.Listen``/``Speak``, playout, barge-in)
plugs in at the two seams marked VOICE: where caller turns come from and where
sentences are delivered.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from switchboard import domain
from switchboard.config import DialerSettings
from switchboard.errors import SwitchboardError
from switchboard.features import FeatureFlags
from switchboard.phones import parse_e164
from switchboard_dialer.brain_events import (
    BrainEvent,
    DtmfInput,
    EndCall,
    Hangup,
    Sentence,
    Silence,
    SmsToSend,
    SpeechSettingsChange,
    TransferRequest,
    TurnDone,
    UserTurn,
)
from switchboard_dialer.brain_link import BrainLink
from switchboard_dialer.ports import BrainPort, CallStore, Sleep
from switchboard_dialer.sms.base import SmsProvider
from switchboard_dialer.tasks import cancel_and_wait
from switchboard_dialer.telephony.base import CallerDtmf, CallerGone, CallerSaid, PhoneLine

log = logging.getLogger(__name__)

# How long a caller's hang-up may wait for the brain to hear about it.
HANGUP_FLUSH_SEC = 2.0
MAX_DURATION_TURN_ID = "max-duration"
# The dialer's own words when the call hits max_call_duration_sec (English for now;
# the brain owns every other sentence and its language).
MAX_DURATION_GOODBYE = (
    "I'm sorry, this call has reached its time limit. Thank you for calling, goodbye."
)


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


class CallSession:
    """Runs one connected call: relays between the line and the brain, keeps the timers."""

    def __init__(
        self,
        call: domain.Call,
        line: PhoneLine,
        brain: BrainPort,
        store: CallStore,
        sms: SmsProvider,
        flags: FeatureFlags,
        settings: DialerSettings,
        sleep: Sleep = asyncio.sleep,
        link_sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.call = call
        self.call_id = call.call_id
        self._line = line
        self._store = store
        self._sms = sms
        self._flags = flags
        self._settings = settings
        self._sleep = sleep
        self._link = BrainLink(
            brain, call.call_id, self._on_brain_event, settings.reconnect_timeout_sec, link_sleep
        )
        self._ending: asyncio.Future[Ending] = asyncio.get_running_loop().create_future()
        # Per agent turn, the highest sentence index delivered: a re-emitted turn
        # (after a brain reconnect) never reaches the caller twice.
        self._delivered: dict[str, int] = {}
        self._done_turns: set[str] = set()
        # An end_call or transfer waiting for its turn to be delivered in full.
        self._after_turn: dict[str, Ending] = {}
        self._silence_task: asyncio.Task[None] | None = None
        self._silence_count = 0
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def brain_reconnects(self) -> int:
        return self._link.reconnects

    async def run(self) -> str:
        """Runs the call until it ends; returns the end reason."""
        cid = self.call_id
        self._tasks = [
            asyncio.create_task(self._guard(self._link.run(), "brain"), name=f"call-{cid}-brain"),
            asyncio.create_task(
                self._guard(self._caller_loop(), "caller"), name=f"call-{cid}-caller"
            ),
            asyncio.create_task(self._guard(self._max_duration(), "timer"), name=f"call-{cid}-max"),
        ]
        try:
            ending = await self._ending
        finally:
            await cancel_and_wait([*self._tasks, *self._silence_tasks()])
        await self._carry_out(ending)
        log.info("call session ended", extra={"call_id": cid, "reason": ending.reason})
        return ending.reason

    # Requests from outside (Dialer.HangUp, Dialer.Transfer, shutdown).

    def end(self, reason: str) -> None:
        """Hangs up from the bot's side."""
        self._finish(Ending(reason=reason))

    def transfer(self, target: str) -> None:
        self._finish(Ending(reason="transferred", action=LineAction.TRANSFER, target=target))

    @property
    def ended(self) -> bool:
        return self._ending.done()

    # Internals.

    def _finish(self, ending: Ending) -> None:
        if not self._ending.done():
            self._ending.set_result(ending)

    async def _guard(self, work: Coroutine[Any, Any, None], part: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except SwitchboardError as exc:
            log.warning(
                "call part failed, ending the call",
                extra={"call_id": self.call_id, "part": part, "error": exc.message},
            )
            self._finish(Ending(reason="brain_unavailable" if part == "brain" else "error"))
        except Exception:
            log.exception(
                "call part crashed, ending the call", extra={"call_id": self.call_id, "part": part}
            )
            self._finish(Ending(reason="error"))

    async def _carry_out(self, ending: Ending) -> None:
        if ending.action is LineAction.TRANSFER:
            try:
                await self._store.set_call_state(
                    self.call_id, domain.CallState.TRANSFERRING, "transfer"
                )
            except SwitchboardError as exc:
                log.warning(
                    "transferring state not stored",
                    extra={"call_id": self.call_id, "error": exc.message},
                )
            await self._line.transfer(ending.target)
        elif ending.action is LineAction.HANG_UP:
            await self._line.hang_up(ending.reason)

    # VOICE: caller turns will come from Speech.Listen instead of whole text turns.
    async def _caller_loop(self) -> None:
        while True:
            event = await self._line.next_event()
            match event:
                case CallerSaid(text=text):
                    self._caller_active()
                    self._link.send(UserTurn(turn_id=str(uuid.uuid4()), text=text))
                case CallerDtmf(digits=digits):
                    self._caller_active()
                    self._link.send(DtmfInput(digits=digits))
                case CallerGone(reason=reason):
                    self._disarm_silence()
                    self._link.send(Hangup(reason=reason))
                    if not await self._link.flush(HANGUP_FLUSH_SEC):
                        log.warning(
                            "brain not told of the hang-up", extra={"call_id": self.call_id}
                        )
                    self._finish(Ending(reason=reason, action=LineAction.NONE))
                    return

    async def _on_brain_event(self, event: BrainEvent) -> None:
        match event:
            case Sentence():
                await self._deliver(event)
            case TurnDone(turn_id=turn_id):
                if turn_id not in self._done_turns:
                    self._done_turns.add(turn_id)
                    await self._line.turn_done(turn_id)
                    self._arm_silence()
                pending = self._after_turn.pop(turn_id, None)
                if pending is not None:
                    self._finish(pending)
            case EndCall(turn_id=turn_id, reason=reason):
                self._when_turn_done(turn_id, Ending(reason=reason or "bot_hangup"))
            case TransferRequest(turn_id=turn_id, target=target):
                target = await self._transfer_target(target)
                if target:
                    self._when_turn_done(
                        turn_id,
                        Ending(reason="transferred", action=LineAction.TRANSFER, target=target),
                    )
            case SmsToSend(to=to, text=text):
                try:
                    await self._sms.send(self.call_id, parse_e164(to, "sms.to"), text)
                except SwitchboardError as exc:
                    log.warning(
                        "sms not sent", extra={"call_id": self.call_id, "error": exc.message}
                    )
            case SpeechSettingsChange():
                pass  # VOICE: the next Speak uses the new language and rate.

    # VOICE: delivery will mean synthesised and played out, not just sent as text.
    async def _deliver(self, sentence: Sentence) -> None:
        self._disarm_silence()
        if not sentence.filler:
            if sentence.index <= self._delivered.get(sentence.turn_id, -1):
                return
            self._delivered[sentence.turn_id] = sentence.index
        await self._line.say(sentence.turn_id, sentence.text)

    def _when_turn_done(self, turn_id: str, ending: Ending) -> None:
        if not turn_id or turn_id in self._done_turns:
            self._finish(ending)
        else:
            self._after_turn[turn_id] = ending

    async def _transfer_target(self, target: str) -> str:
        candidate = target or self.call.initiate.agent_phone_number
        try:
            return parse_e164(candidate, "transfer.target")
        except SwitchboardError:
            log.warning(
                "transfer ignored: no valid target",
                extra={"call_id": self.call_id, "pii_target": candidate},
            )
            return ""

    # Timers. Every wait goes through the injected sleep, so tests move time by hand.

    def _caller_active(self) -> None:
        self._silence_count = 0
        self._disarm_silence()

    def _arm_silence(self) -> None:
        self._disarm_silence()
        if self.ended:
            return
        self._silence_task = asyncio.create_task(
            self._silence_after(self._flags.current.phone_silence_timeout_sec),
            name=f"call-{self.call_id}-silence",
        )

    def _disarm_silence(self) -> None:
        if self._silence_task is not None:
            self._silence_task.cancel()
            self._silence_task = None

    def _silence_tasks(self) -> list[asyncio.Task[None]]:
        return [self._silence_task] if self._silence_task is not None else []

    async def _silence_after(self, timeout_sec: float) -> None:
        await self._sleep(timeout_sec)
        self._silence_task = None
        self._silence_count += 1
        log.info("caller silent", extra={"call_id": self.call_id, "count": self._silence_count})
        self._link.send(Silence(count=self._silence_count))

    async def _max_duration(self) -> None:
        await self._sleep(self._settings.max_call_duration_sec)
        log.info("call reached its maximum duration", extra={"call_id": self.call_id})
        self._disarm_silence()
        await self._line.say(MAX_DURATION_TURN_ID, MAX_DURATION_GOODBYE)
        await self._line.turn_done(MAX_DURATION_TURN_ID)
        try:
            await self._store.append_messages(
                self.call_id,
                [
                    domain.Message(
                        persona=domain.Persona.ASSISTANT,
                        content=MAX_DURATION_GOODBYE,
                        turn_id=f"{MAX_DURATION_TURN_ID}-{self.call_id}",
                    )
                ],
            )
        except SwitchboardError as exc:
            log.warning("goodbye not stored", extra={"call_id": self.call_id, "error": exc.message})
        self._finish(Ending(reason="max_duration"))
