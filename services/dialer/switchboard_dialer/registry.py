"""``CallRegistry``: the live calls of this dialer replica, each one a named task.

A call is pinned to the replica that placed or took it. The registry runs each
call's life (ring → answer → session → end) and records its states in the store.
Post-call work is not started here: the store queues it with the call's ending, so a
dialer that dies right after a call cannot lose the report.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from switchboard import domain, telemetry
from switchboard.call_leases import CallLease
from switchboard.clock import Clock, SystemClock
from switchboard.config import DialerSettings
from switchboard.errors import FailedPrecondition, SwitchboardError
from switchboard.tasks import cancel_and_wait, wait_on_clock
from switchboard.telemetry_metrics import LIVE_CALLS
from switchboard_dialer.ports import CallStore
from switchboard_dialer.session import CallSession
from switchboard_dialer.telephony.base import CallNotConnected, PhoneLine, Ring

log = logging.getLogger(__name__)

# How long stopping waits for hung-up calls to be recorded before cancelling them.
POST_CALL_WAIT_SEC = 5.0
# The end reason of a call still live when a draining dialer's drain time is over.
DRAINED = "drained"
# How long such a call's goodbye may take before the call ends anyway (a spoken goodbye
# is about 6 s of audio).
DRAIN_GOODBYE_GRACE_SEC = 10.0
# How long a drain may last past its drain time: the goodbye, then recording the call.
# With the server's stop grace, the margin a deployment adds to the drain time must cover it.
DRAIN_OVERRUN_SEC = DRAIN_GOODBYE_GRACE_SEC + POST_CALL_WAIT_SEC

SessionFactory = Callable[[domain.Call], CallSession]


@dataclass
class LiveCall:
    """A call this replica owns: ringing (``ring``) or connected (``session``)."""

    call_id: str
    ring: Ring | None = None
    session: CallSession | None = None
    stop_reason: str = ""
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    ended: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


class CallRegistry:
    """Live calls by id; starts, stops and finishes them."""

    def __init__(
        self,
        store: CallStore,
        new_session: SessionFactory,
        settings: DialerSettings,
        clock: Clock | None = None,
        lease: CallLease | None = None,
    ) -> None:
        self._store = store
        self._new_session = new_session
        self._settings = settings
        self._clock = clock or SystemClock()
        self._lease = lease
        self._live: dict[str, LiveCall] = {}

    def is_live(self, call_id: str) -> bool:
        return call_id in self._live

    def live_call_ids(self) -> list[str]:
        """The calls this replica runs now, ringing or connected."""
        return list(self._live)

    def get(self, call_id: str) -> LiveCall | None:
        return self._live.get(call_id)

    def start_outbound(self, call: domain.Call, ring: Ring) -> LiveCall:
        live = LiveCall(call_id=call.call_id, ring=ring)
        return self._start(live, self._outbound_life(live, call, ring))

    def start_connected(self, call: domain.Call, line: PhoneLine) -> LiveCall:
        """A call that is already connected (inbound): straight to the session."""
        live = LiveCall(call_id=call.call_id)
        return self._start(live, self._connected_life(live, call, line))

    async def hang_up(self, call_id: str, reason: str) -> bool:
        """Ends a live call from the bot's side; False when it is not live here."""
        live = self._live.get(call_id)
        if live is None:
            return False
        live.stop_reason = live.stop_reason or reason
        if live.session is not None:
            live.session.end(reason)
        elif live.ring is not None:
            live.ring.cancel(reason)
        return True

    async def transfer(self, call_id: str, target: str) -> bool:
        live = self._live.get(call_id)
        if live is None or live.session is None or live.session.ended:
            return False
        live.session.transfer(target)
        return True

    async def wait_ended(self, call_id: str) -> None:
        live = self._live.get(call_id)
        if live is not None:
            await live.ended.wait()

    async def drain(self, timeout_sec: float, reason: str = DRAINED) -> None:
        """Lets the live calls finish for up to ``timeout_sec``, then ends the rest
        politely: the brain says and stores a goodbye and the call ends with ``reason``
        (a ringing call is cancelled). Returns once every call was recorded, or after
        the goodbye's grace and the post-call wait (``stop_all`` takes the rest)."""
        if not self._live:
            return
        log.info(
            "draining live calls", extra={"calls": len(self._live), "timeout_sec": timeout_sec}
        )
        deadline = self._clock.monotonic() + timeout_sec
        # Again and again: a call placed just before the drain began may register late.
        while self._live:
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0 or not await self._all_ended(list(self._live.values()), remaining):
                break
        else:
            log.info("every live call finished in the drain time")
            return
        late = list(self._live.values())
        log.info("drain time over, ending the rest", extra={"calls": len(late)})
        for live in late:
            if live.session is not None:
                live.session.time_up(reason, DRAIN_GOODBYE_GRACE_SEC)
            else:
                await self.hang_up(live.call_id, reason)
        await self._all_ended(late, DRAIN_OVERRUN_SEC)

    async def _all_ended(self, calls: list[LiveCall], timeout_sec: float) -> bool:
        """Waits (on the clock) until every call in ``calls`` ended; False on timeout."""
        everyone = asyncio.ensure_future(asyncio.gather(*(live.ended.wait() for live in calls)))
        try:
            await wait_on_clock(everyone, timeout_sec, self._clock)
        except TimeoutError:
            return False
        finally:
            everyone.cancel()
        return True

    async def stop_all(self, reason: str) -> None:
        """Hangs up every live call (``reason``) and waits for them to be recorded."""
        calls = list(self._live.values())
        for live in calls:
            await self.hang_up(live.call_id, reason)
        tasks = [live.task for live in calls if live.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=POST_CALL_WAIT_SEC)
            await cancel_and_wait(late)

    # The life of a call.

    def _start(self, live: LiveCall, life: Coroutine[Any, Any, None]) -> LiveCall:
        self._live[live.call_id] = live
        live.task = asyncio.create_task(self._run(live, life), name=f"call-{live.call_id}")
        return live

    async def _run(self, live: LiveCall, life: Coroutine[Any, Any, None]) -> None:
        # The call's span: every hop of its life (brain, speech, store) joins its trace.
        LIVE_CALLS.add(1)
        try:
            with (
                telemetry.call_scope(live.call_id),
                telemetry.span("call", {"call.id": live.call_id}),
            ):
                await self._life(live, life)
        finally:
            LIVE_CALLS.add(-1)

    async def _life(self, live: LiveCall, life: Coroutine[Any, Any, None]) -> None:
        try:
            await life
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call life failed", extra={"call_id": live.call_id})
            await self._record(live.call_id, domain.CallState.FAILED, "dialer_error")
        finally:
            self._live.pop(live.call_id, None)
            live.ended.set()

    async def _outbound_life(self, live: LiveCall, call: domain.Call, ring: Ring) -> None:
        # A ring that will be a voice line starts the conversation and synthesis now,
        # so the greeting's audio is ready the moment the callee answers.
        early: CallSession | None = None
        if ring.sample_rate and not ring.settled:
            early = self._new_session(call)
            early.prepare(ring.sample_rate)
        try:
            line = await ring.wait_answered(self._settings.ring_timeout_sec, self._clock)
        except CallNotConnected as exc:
            if early is not None:
                await early.abandon()
            state = domain.CallState.FAILED if exc.failed else domain.CallState.ENDED
            log.info("call not connected", extra={"call_id": call.call_id, "reason": exc.reason})
            await self._record(call.call_id, state, exc.reason)
            return
        except BaseException:
            if early is not None:
                await early.abandon()
            raise
        live.ring = None
        if live.stop_reason:  # hung up in the instant it was answered
            if early is not None:
                await early.abandon()
            await line.hang_up(live.stop_reason)
            await self._record(call.call_id, domain.CallState.ENDED, live.stop_reason)
            return
        await self._connected_life(live, call, line, early)

    async def _connected_life(
        self,
        live: LiveCall,
        call: domain.Call,
        line: PhoneLine,
        session: CallSession | None = None,
    ) -> None:
        try:
            # Leased here with its answer: an inbound call's first live state.
            call = await self._store.set_call_state(
                call.call_id, domain.CallState.IN_PROGRESS, lease=self._lease
            )
        except SwitchboardError as exc:
            if session is not None:
                await session.abandon()
            await line.hang_up("error")  # the caller must not wait on a call nobody runs
            if isinstance(exc, FailedPrecondition):
                # Another replica runs this conversation: its state is that replica's.
                log.warning(
                    "call not connected: live on another replica", extra={"call_id": call.call_id}
                )
                return
            raise
        log.info("call connected", extra={"call_id": call.call_id})
        if session is None:
            session = self._new_session(call)
        session.call = call
        live.session = session
        if live.stop_reason:
            session.end(live.stop_reason)
        try:
            reason = await session.run(line)
            # Ending a connected call queues its post-call job in the store, in the same write.
            await self._record(call.call_id, domain.CallState.ENDED, reason)
        finally:
            await session.store_recording()  # after ENDED: the report never waits on it

    async def _record(self, call_id: str, state: domain.CallState, reason: str) -> None:
        try:
            await self._store.set_call_state(call_id, state, reason)
        except SwitchboardError as exc:
            log.error(
                "call state not stored",
                extra={
                    "call_id": call_id,
                    "state": state.value,
                    "reason": reason,
                    "error": exc.message,
                },
            )
