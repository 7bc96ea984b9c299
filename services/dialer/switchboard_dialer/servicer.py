"""The ``switchboard.v1.Dialer`` servicer: a thin edge over :class:`Dialer`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol, runtime_checkable

import grpc

from switchboard import convert
from switchboard.errors import FailedPrecondition, InvalidArgument
from switchboard.grpc_edge import grpc_errors
from switchboard.phone import (
    PhoneAttach,
    PhoneConnected,
    PhoneDownlink,
    PhoneRegister,
    PhoneRegistered,
)
from switchboard.phone_wire import downlink_to_pb, uplink_from_pb
from switchboard.tasks import cancel_and_wait
from switchboard.v1 import common_pb2, dialer_pb2, dialer_pb2_grpc
from switchboard_dialer.dialer import Dialer
from switchboard_dialer.telephony.base import MediaEndpoint, TelephonyProvider


class HostedPhone(MediaEndpoint, Protocol):
    """A phone registered by number on ``Dialer.Phone``: a simulated phone or softphone."""

    number: str


@runtime_checkable
class PhoneHost(Protocol):
    """A telephony provider that serves registered phones (the simulator)."""

    def register(self, registration: PhoneRegister) -> HostedPhone: ...

    def unregister(self, phone: Any) -> None: ...


class DialerServicer(dialer_pb2_grpc.DialerServicer):
    """Proto in, domain call, proto out; errors become status codes in ``grpc_errors``."""

    def __init__(self, dialer: Dialer, telephony: TelephonyProvider) -> None:
        self._dialer = dialer
        self._telephony = telephony

    @grpc_errors
    async def PlaceCall(
        self, request: dialer_pb2.PlaceCallRequest, context: grpc.aio.ServicerContext
    ) -> common_pb2.Call:
        if not request.HasField("initiate"):
            raise InvalidArgument("initiate is required")
        try:
            initiate = convert.request_from_pb(request.initiate)
        except ValueError as exc:
            raise InvalidArgument(f"initiate: {exc}") from exc
        return convert.call_to_pb(await self._dialer.place_call(initiate))

    @grpc_errors
    async def AnswerCall(
        self, request: dialer_pb2.AnswerCallRequest, context: grpc.aio.ServicerContext
    ) -> common_pb2.Call:
        if request.provider and request.provider != self._telephony.name:
            raise InvalidArgument(
                f"provider {request.provider!r} is not this dialer's ({self._telephony.name})"
            )
        # Before the carrier's call is accepted: a refused call must not leave a line open.
        self._dialer.refuse_when_draining()
        line = await self._telephony.accept_webhook(request.provider_call_id)
        call = await self._dialer.take_inbound(request.from_number, request.to_number, line)
        return convert.call_to_pb(call)

    @grpc_errors
    async def HangUp(
        self, request: dialer_pb2.HangUpRequest, context: grpc.aio.ServicerContext
    ) -> dialer_pb2.HangUpResponse:
        was_live = await self._dialer.hang_up(request.call_id, request.reason)
        return dialer_pb2.HangUpResponse(was_live=was_live)

    @grpc_errors
    async def Transfer(
        self, request: dialer_pb2.TransferCallRequest, context: grpc.aio.ServicerContext
    ) -> dialer_pb2.TransferResponse:
        accepted = await self._dialer.transfer(request.call_id, request.target)
        return dialer_pb2.TransferResponse(accepted=accepted)

    @grpc_errors
    async def SendSms(
        self, request: dialer_pb2.SendSmsRequest, context: grpc.aio.ServicerContext
    ) -> dialer_pb2.SendSmsResponse:
        message_id = await self._dialer.send_sms(request.call_id, request.to, request.text)
        return dialer_pb2.SendSmsResponse(provider_message_id=message_id)

    @grpc_errors
    async def Phone(
        self,
        request_iterator: AsyncIterator[dialer_pb2.PhoneUplink],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[dialer_pb2.PhoneDownlink]:
        """A registered phone (``register`` first, then ring, answer, talk; closing
        unregisters), or a carrier's media socket for one call (``attach`` first, then
        audio and DTMF)."""
        uplink = aiter(request_iterator)
        first = await anext(uplink, None)
        opening = uplink_from_pb(first) if first is not None else None
        phone: MediaEndpoint
        release: Callable[[], None]
        if isinstance(opening, PhoneAttach):
            phone = await self._telephony.attach_media(opening)
            greeting: PhoneDownlink = PhoneConnected(call_id=opening.call_id)
            release = phone.close
        elif isinstance(opening, PhoneRegister):
            host = self._telephony
            if not isinstance(host, PhoneHost):
                raise FailedPrecondition(
                    f"virtual phones need dialer.telephony simulator; "
                    f"this dialer runs {self._telephony.name}"
                )
            registered = host.register(opening)
            phone, greeting = registered, PhoneRegistered(number=registered.number)

            def release() -> None:
                host.unregister(registered)
        else:
            raise InvalidArgument(
                "the first message on Phone must be register{number, mode} or attach"
            )
        # Released however the stream ends: a client that cancels it while this
        # generator waits at a ``yield`` never runs the ``finally`` below until the
        # generator is garbage-collected.
        context.add_done_callback(lambda _: release())
        errors: list[Exception] = []
        pump = asyncio.create_task(self._pump_uplink(uplink, phone, errors), name="phone-uplink")
        try:
            yield downlink_to_pb(greeting)
            async for event in phone.downlink():
                yield downlink_to_pb(event)
            if errors:
                raise errors[0]
        finally:
            release()
            await cancel_and_wait([pump])

    @grpc_errors
    async def CarrierWebhook(
        self, request: dialer_pb2.CarrierWebhookRequest, context: grpc.aio.ServicerContext
    ) -> dialer_pb2.CarrierWebhookResponse:
        accepted = await self._dialer.carrier_webhook(
            request.provider, request.kind, request.call_id, request.token, request.body
        )
        return dialer_pb2.CarrierWebhookResponse(accepted=accepted)

    @staticmethod
    async def _pump_uplink(
        uplink: AsyncIterator[dialer_pb2.PhoneUplink],
        phone: MediaEndpoint,
        errors: list[Exception],
    ) -> None:
        """The phone's uplink; any misuse ends the stream with that error."""
        try:
            async for msg in uplink:
                event = uplink_from_pb(msg)
                if event is None:
                    raise InvalidArgument(
                        "an uplink message must carry one of register, answer, say, audio, "
                        "dtmf, hang_up or dial"
                    )
                await phone.handle(event)
        except Exception as exc:
            errors.append(exc)
        finally:
            phone.close()
