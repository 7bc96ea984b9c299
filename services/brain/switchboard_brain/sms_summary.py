"""The post-call SMS summary, sent through the dialer's SMS provider.

Only when ``dialer.sms`` is a real carrier (the ``log`` provider sends nothing, so there
is nothing to do). A post-call job may run more than once: a summary already in the
call's transcript as an SMS is not sent again.
"""

from __future__ import annotations

import logging
from typing import Protocol

import grpc

from switchboard.channels import open_channel
from switchboard.domain import MessageAction
from switchboard.grpc_edge import domain_error
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_brain.store import CallStore

log = logging.getLogger(__name__)

SEND_TIMEOUT_SEC = 15.0


class SmsSender(Protocol):
    """``Dialer.SendSms``: sends and records the message on its call."""

    async def send_sms(self, call_id: str, to: str, text: str) -> str: ...


async def send_summary(sender: SmsSender, store: CallStore, call_id: str, summary: str) -> bool:
    """Texts ``summary`` to the call's number once; False when there was nothing to send."""
    if not summary.strip():
        return False
    call = await store.get_call(call_id)
    if not call.initiate.phone_number:
        return False  # the caller withheld their number
    if any(m.action is MessageAction.SMS and m.content == summary for m in call.messages):
        return False
    message_id = await sender.send_sms(call_id, call.initiate.phone_number, summary)
    log.info("sms summary sent", extra={"call_id": call_id, "message_id": message_id})
    return True


class DialerSms:
    """:class:`SmsSender` over gRPC (the brain's only call to the dialer)."""

    def __init__(self, address: str) -> None:
        self._channel = open_channel(address)
        # Generated stubs have no annotations for the constructor.
        self._stub = dialer_pb2_grpc.DialerStub(self._channel)  # type: ignore[no-untyped-call]

    async def send_sms(self, call_id: str, to: str, text: str) -> str:
        try:
            reply = await self._stub.SendSms(
                dialer_pb2.SendSmsRequest(call_id=call_id, to=to, text=text),
                timeout=SEND_TIMEOUT_SEC,
            )
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        return str(reply.provider_message_id)

    async def close(self) -> None:
        await self._channel.close()
