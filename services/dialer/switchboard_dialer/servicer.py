"""The ``switchboard.v1.Dialer`` servicer: a thin edge over :class:`Dialer`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

import grpc

from switchboard import convert
from switchboard.errors import FailedPrecondition, InvalidArgument
from switchboard.grpc_edge import grpc_errors
from switchboard.phone import PhoneDownlink, PhoneRegister, PhoneRegistered, PhoneUplink
from switchboard.phone_wire import downlink_to_pb, uplink_from_pb
from switchboard.tasks import cancel_and_wait
from switchboard.v1 import common_pb2, dialer_pb2, dialer_pb2_grpc
from switchboard_dialer.dialer import Dialer
from switchboard_dialer.telephony.base import TelephonyProvider


class HostedPhone(Protocol):
    """One ``Dialer.Phone`` stream's phone: a simulated phone or a carrier's media leg."""

    number: str

    def downlink(self) -> AsyncIterator[PhoneDownlink]: ...

    async def handle(self, event: PhoneUplink) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class PhoneHost(Protocol):
    """A telephony provider that serves ``Dialer.Phone`` streams (simulator, twilio)."""

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
    async def CarrierStatus(
        self, request: dialer_pb2.CarrierStatusRequest, context: grpc.aio.ServicerContext
    ) -> dialer_pb2.CarrierStatusResponse:
        applied = await self._dialer.carrier_status(
            request.provider,
            request.call_id,
            request.provider_call_id,
            request.status,
            request.answered_by,
        )
        return dialer_pb2.CarrierStatusResponse(applied=applied)

    @grpc_errors
    async def Phone(
        self,
        request_iterator: AsyncIterator[dialer_pb2.PhoneUplink],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[dialer_pb2.PhoneDownlink]:
        """A virtual phone: ``register`` first, then ring, answer, talk; closing unregisters."""
        if not isinstance(self._telephony, PhoneHost):
            raise FailedPrecondition(
                f"virtual phones need dialer.telephony simulator or a carrier whose media "
                f"the gateway bridges; this dialer runs {self._telephony.name}"
            )
        uplink = aiter(request_iterator)
        first = await anext(uplink, None)
        registration = uplink_from_pb(first) if first is not None else None
        if not isinstance(registration, PhoneRegister):
            raise InvalidArgument("the first message on Phone must be register{number, mode}")
        phone = self._telephony.register(registration)
        # The number is released however the stream ends: a client that cancels it
        # while this generator waits at a ``yield`` never runs the ``finally`` below
        # until the generator is garbage-collected.
        telephony = self._telephony
        context.add_done_callback(lambda _: telephony.unregister(phone))
        errors: list[Exception] = []
        pump = asyncio.create_task(self._pump_uplink(uplink, phone, errors), name="phone-uplink")
        try:
            yield downlink_to_pb(PhoneRegistered(number=phone.number))
            async for event in phone.downlink():
                yield downlink_to_pb(event)
            if errors:
                raise errors[0]
        finally:
            self._telephony.unregister(phone)
            await cancel_and_wait([pump])

    @staticmethod
    async def _pump_uplink(
        uplink: AsyncIterator[dialer_pb2.PhoneUplink],
        phone: HostedPhone,
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
