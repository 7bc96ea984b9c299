"""``Dialer``: placing, taking, ending and transferring calls, as typed domain operations."""

from __future__ import annotations

import logging

from switchboard import domain
from switchboard.call_leases import CallLease
from switchboard.errors import FailedPrecondition, InvalidArgument, SwitchboardError, Unavailable
from switchboard.features import FeatureFlags
from switchboard.phones import parse_e164
from switchboard_dialer.callback import inbound_may_resume
from switchboard_dialer.inbound import InboundLines
from switchboard_dialer.ports import CallStore
from switchboard_dialer.registry import CallRegistry
from switchboard_dialer.sms.base import SmsProvider
from switchboard_dialer.telephony.base import PhoneLine, TelephonyProvider
from switchboard_dialer.voicemail import answered_by_line

log = logging.getLogger(__name__)

MAX_SMS_CHARS = 1600


class Dialer:
    """The dialer's operations; the servicer is a thin edge over these."""

    def __init__(
        self,
        store: CallStore,
        telephony: TelephonyProvider,
        registry: CallRegistry,
        sms: SmsProvider,
        flags: FeatureFlags,
        inbound: InboundLines,
        lease: CallLease | None = None,
    ) -> None:
        self._store = store
        self._lease = lease
        self._telephony = telephony
        self._registry = registry
        self._sms = sms
        self._flags = flags
        self._inbound = inbound
        self._draining = False
        telephony.on_inbound(self.take_inbound)

    @property
    def registry(self) -> CallRegistry:
        return self._registry

    @property
    def draining(self) -> bool:
        return self._draining

    def stop_taking_calls(self) -> None:
        """From now on new calls, placed or inbound, are refused as ``Unavailable`` (the
        dialer is shutting down); the live ones go on."""
        self._draining = True

    def refuse_when_draining(self) -> None:
        """Raises ``Unavailable`` once the dialer is shutting down."""
        if self._draining:
            raise Unavailable(
                "this dialer is shutting down and takes no new calls; try again, "
                "another dialer replica will take it"
            )

    async def place_call(self, request: domain.CallRequest) -> domain.Call:
        """Resumes the number's open call or creates one, then dials; returns once dialling."""
        self.refuse_when_draining()
        request = validate_request(request)
        call = await self._open_call(request, domain.CallDirection.OUTBOUND, request)
        if self._registry.is_live(call.call_id):
            raise FailedPrecondition("this conversation is already live; hang it up first")
        # Leased to this replica in the same write: if it dies, the call is ended for it.
        call = await self._store.set_call_state(
            call.call_id, domain.CallState.DIALING, lease=self._lease
        )
        try:
            ring = await self._telephony.dial(call.call_id, request.phone_number)
        except SwitchboardError as exc:
            await self._store.set_call_state(call.call_id, domain.CallState.FAILED, "dial_failed")
            log.warning("dial failed", extra={"call_id": call.call_id, "error": exc.message})
            raise
        if ring.ringing:
            call = await self._store.set_call_state(call.call_id, domain.CallState.RINGING)
        self._registry.start_outbound(call, ring)
        log.info("call placed", extra={"call_id": call.call_id, "attempt": call.attempt})
        return call

    async def take_inbound(self, from_number: str, to_number: str, line: PhoneLine) -> domain.Call:
        """An inbound call: resumes the caller's open call or starts one, then connects."""
        self.refuse_when_draining()
        caller = self._inbound.caller(from_number)
        request = self._inbound.request(caller, to_number)
        if caller:
            call = await self._open_call(request, domain.CallDirection.INBOUND, None, inbound=True)
        else:
            # A withheld or non-numeric caller ID: nothing to resume by, so a new conversation.
            call = await self._store.create_call(request, domain.CallDirection.INBOUND)
        if self._registry.is_live(call.call_id):
            raise FailedPrecondition("this caller's conversation is already live")
        await line.accept(call.call_id)
        self._registry.start_connected(call, line)
        log.info("inbound call taken", extra={"call_id": call.call_id, "attempt": call.attempt})
        # The lease is written as the call connects (just after); the carrier's URLs need
        # this replica's address now, so the gateway can route the media socket here.
        address = self._lease.address if self._lease is not None else ""
        return call.model_copy(update={"dialer_address": address})

    async def hang_up(self, call_id: str, reason: str) -> bool:
        """Ends a live call; returns whether it was live on this replica."""
        if not call_id:
            raise InvalidArgument("call_id is required")
        return await self._registry.hang_up(call_id, reason or "hangup")

    async def transfer(self, call_id: str, target: str) -> bool:
        """Hands a live call to a human; ``target`` defaults to the request's agent number."""
        if not call_id:
            raise InvalidArgument("call_id is required")
        live = self._registry.get(call_id)
        if live is None or live.session is None:
            return False
        number = target or live.session.call.initiate.agent_phone_number
        return await self._registry.transfer(call_id, parse_e164(number, "target"))

    async def send_sms(self, call_id: str, to: str, text: str) -> str:
        if not call_id:
            raise InvalidArgument("call_id is required: the SMS is recorded with its call")
        number = parse_e164(to, "to")
        if not text.strip():
            raise InvalidArgument("text must not be empty")
        if len(text) > MAX_SMS_CHARS:
            raise InvalidArgument(f"text is limited to {MAX_SMS_CHARS} characters")
        await self._store.get_call(call_id)  # NotFound for an unknown call
        return await self._sms.send(call_id, number, text)

    async def carrier_webhook(
        self, provider: str, kind: str, call_id: str, token: str, body: bytes
    ) -> int:
        """A carrier's callback, checked at the gateway, for the provider to act on; the
        events it acted on (0: stale, replayed or unknown).

        A machine-detection result is stored on the call once, as a tool line of its
        transcript (the model's prompt leaves those out), and decides a live call's
        answer screen (a machine gets the voicemail message).
        """
        if provider != self._telephony.name:
            raise FailedPrecondition(f"this dialer runs {self._telephony.name}, not {provider!r}")
        if kind == "events":
            # A new call: a draining dialer refuses it, so the carrier retries elsewhere.
            self.refuse_when_draining()
        outcome = await self._telephony.webhook(kind, call_id, token, body)
        if outcome.answered_by:
            await self._store.append_messages(call_id, [answered_by_line(outcome.answered_by)])
            live = self._registry.get(call_id)
            if live is not None and live.session is not None:
                await live.session.carrier_answered_by(outcome.answered_by)
            log.info(
                "answering machine detection",
                extra={"call_id": call_id, "answered_by": outcome.answered_by},
            )
        return outcome.accepted

    async def _open_call(
        self,
        request: domain.CallRequest,
        direction: domain.CallDirection,
        match: domain.CallRequest | None,
        inbound: bool = False,
    ) -> domain.Call:
        window = self._flags.current.callback_timeout_hour
        found = await self._store.find_open_call(request.phone_number, window, match)
        if found is not None and inbound and not inbound_may_resume(found):
            # Caller ID is no proof of who calls: a finished conversation stays closed.
            log.info("completed call not resumed by caller id", extra={"call_id": found.call_id})
            found = None
        if found is not None:
            log.info("resuming open call", extra={"call_id": found.call_id})
            return found
        return await self._store.create_call(request, direction)


def validate_request(request: domain.CallRequest) -> domain.CallRequest:
    """Checks the numbers a call needs; returns the request with them in E.164."""
    update = {"phone_number": parse_e164(request.phone_number, "initiate.phone_number")}
    if request.agent_phone_number:
        update["agent_phone_number"] = parse_e164(
            request.agent_phone_number, "initiate.agent_phone_number"
        )
    return request.model_copy(update=update)
