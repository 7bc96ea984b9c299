"""A domain-typed client of ``Dialer.Phone``: a virtual phone on the dialer.

Whoever plays a phone (the gateway's browser softphone, the CLI's simulated
callee) registers a number with a mode here, then sends
:data:`~switchboard.phone.PhoneUplink` events and receives
:data:`~switchboard.phone.PhoneDownlink` events; :mod:`switchboard.phone_wire`
converts them. The only module of a phone's side that sees protobuf messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from switchboard.channels import open_channel
from switchboard.errors import Unavailable
from switchboard.grpc_edge import domain_error
from switchboard.media import FRAME_MS, AudioFrame, whole_frames
from switchboard.phone import (
    PhoneAttach,
    PhoneConnected,
    PhoneDownlink,
    PhoneRegister,
    PhoneRegistered,
    PhoneUplink,
)
from switchboard.phone_wire import downlink_from_pb, uplink_to_pb
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc

log = logging.getLogger(__name__)

REGISTER_TIMEOUT_SEC = 5.0
# After the uplink is closed, how long the dialer gets to end the stream before it is cut.
CLOSE_GRACE_SEC = 1.0
# Uplink messages buffered towards the dialer (2 s of audio); a sender waits beyond that.
UPLINK_BUFFER = 100

Uplink = asyncio.Queue[dialer_pb2.PhoneUplink | None]
"""What a stream sends, in order; None half-closes it."""


class GrpcPhoneStream:
    """One opened phone: one ``Dialer.Phone`` call, its uplink fed through a queue.
    :meth:`close` half-closes it (the dialer unregisters the number and ends the
    stream), then cancels it. ``sample_rate``: the rate its audio frames are numbered at."""

    def __init__(self, number: str, call: Any, uplink: Uplink, sample_rate: int = 0) -> None:
        self._number = number
        self._call = call
        self._uplink = uplink
        self._sample_rate = sample_rate
        self._seq = 0
        self._closed = False

    @property
    def number(self) -> str:
        """The number the dialer registered, in E.164."""
        return self._number

    async def send(self, event: PhoneUplink) -> None:
        """Sends one event; audio frames (or chunks of whole frames) are numbered here,
        at the registered rate.

        Raises ``Unavailable`` when the stream is gone. Waits while
        :data:`UPLINK_BUFFER` messages are still on their way.
        """
        if self._closed or self._call.done():
            raise Unavailable("the phone stream to the dialer has ended")
        if isinstance(event, AudioFrame):
            # A chunk of several frames is numbered by its first; the next follows its last.
            seq = self._seq + 1
            self._seq += whole_frames(event.pcm, self._sample_rate) or 1
            event = AudioFrame(event.pcm, seq, seq * FRAME_MS, self._sample_rate, event.call_id)
        await self._uplink.put(uplink_to_pb(event))

    async def events(self) -> AsyncIterator[PhoneDownlink]:
        """What the dialer sends, until the stream ends (or is closed here);
        raises domain errors on failure."""
        try:
            # read(), not iteration: registration already read the first message, and
            # grpc.aio refuses to mix the two styles on one call.
            while (msg := await self._call.read()) is not grpc.aio.EOF:
                event = downlink_from_pb(msg)
                if event is not None and not isinstance(event, PhoneRegistered):
                    yield event
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise domain_error(exc) from exc

    async def close(self) -> None:
        """Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(asyncio.QueueFull):
            self._uplink.put_nowait(None)
        try:
            async with asyncio.timeout(CLOSE_GRACE_SEC):
                await self._call.code()
        except TimeoutError:
            log.info("phone stream did not end in time; cancelling it")
        finally:
            self._call.cancel()


class PhoneClient:
    """Registers virtual phones on one dialer (one channel for all of them).

    ``wait_for_ready``: a phone opened before the dialer is up waits for it
    (within the registration timeout) instead of failing at once.
    """

    def __init__(self, address: str, *, wait_for_ready: bool = False) -> None:
        self._channel = open_channel(address)
        # Generated stubs are untyped; their .pyi covers messages only.
        self._stub = dialer_pb2_grpc.DialerStub(self._channel)  # type: ignore[no-untyped-call]
        self._wait_for_ready = wait_for_ready

    async def register(
        self, register: PhoneRegister, timeout_sec: float = REGISTER_TIMEOUT_SEC
    ) -> GrpcPhoneStream:
        """A phone, registered once this returns.

        Raises ``InvalidArgument`` (bad number), ``AlreadyExists`` (the number is
        taken), ``FailedPrecondition`` (the dialer has no virtual phones) or
        ``Unavailable`` (no confirmation within ``timeout_sec``).
        """
        call, uplink, registered = await self._open(register, timeout_sec)
        if not isinstance(registered, PhoneRegistered):
            call.cancel()
            raise Unavailable("the dialer ended the phone stream before registering it")
        return GrpcPhoneStream(registered.number, call, uplink, register.sample_rate)

    async def attach(
        self, attach: PhoneAttach, timeout_sec: float = REGISTER_TIMEOUT_SEC
    ) -> GrpcPhoneStream:
        """A carrier's media socket, attached to its call once this returns.

        Raises ``NotFound`` (no such live call, or a wrong token), ``InvalidArgument``,
        ``FailedPrecondition`` (another provider) or ``Unavailable``.
        """
        call, uplink, connected = await self._open(attach, timeout_sec)
        if not isinstance(connected, PhoneConnected):
            call.cancel()
            raise Unavailable("the dialer ended the media stream before attaching it")
        return GrpcPhoneStream(attach.call_id, call, uplink, attach.sample_rate)

    async def _open(
        self, first: PhoneUplink, timeout_sec: float
    ) -> tuple[Any, Uplink, PhoneDownlink | None]:
        """A ``Dialer.Phone`` call that opened with ``first``, and the dialer's answer to it
        (None: the stream ended at once). The caller checks the answer."""
        uplink: Uplink = asyncio.Queue(UPLINK_BUFFER)
        uplink.put_nowait(uplink_to_pb(first))
        call = self._stub.Phone(queued_uplink(uplink), wait_for_ready=self._wait_for_ready)
        try:
            async with asyncio.timeout(timeout_sec):
                answer = await call.read()
        except TimeoutError as exc:
            call.cancel()
            raise Unavailable("the dialer did not answer the phone stream in time") from exc
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        return call, uplink, None if answer is grpc.aio.EOF else downlink_from_pb(answer)

    async def close(self) -> None:
        await self._channel.close()


async def queued_uplink(queue: Uplink) -> AsyncIterator[dialer_pb2.PhoneUplink]:
    """The request iterator of a ``Dialer.Phone`` call: the queue's messages until None."""
    while (item := await queue.get()) is not None:
        yield item
