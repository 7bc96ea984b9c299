"""What the gateway's carrier endpoints need from the dialer, in domain types.

A carrier's media socket (Twilio or ACS) is bridged to the dialer as one
``Dialer.Phone`` stream that starts with ``attach`` (instead of a softphone's
``register``); callbacks go to ``Dialer.CarrierWebhook`` with the carrier's body as
received; a carrier's inbound-call webhook becomes ``Dialer.AnswerCall``. Production wires in
:class:`~switchboard_gateway.carrier_grpc.GrpcCarrierLink`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from switchboard.phone import PhoneAttach
from switchboard_gateway.phone_link import PhoneStream


@dataclass(frozen=True)
class AnsweredCall:
    """An inbound call a dialer replica took: its id, and that replica's address
    (``dialer.advertise_address``, "" when it advertises none) for the call's route."""

    call_id: str
    dialer_address: str = ""


class CarrierLink(Protocol):
    """``route``: the address of the dialer replica that runs the call, from a signed
    route in the carrier's URL (checked by the caller); "" for ``services.dialer``."""

    async def attach(self, attach: PhoneAttach, route: str = "") -> PhoneStream:
        """The call's media stream, attached once this returns.

        Raises ``NotFound`` (no such live call, or a wrong token), ``InvalidArgument``
        or ``Unavailable``.
        """
        ...

    async def webhook(
        self, provider: str, kind: str, call_id: str, token: str, body: bytes, route: str = ""
    ) -> int:
        """Hands a carrier delivery to the dialer; returns the events it acted on."""
        ...

    async def answer_call(
        self, provider: str, from_number: str, to_number: str, provider_call_id: str
    ) -> AnsweredCall:
        """A carrier's inbound call, taken by a dialer replica; the call it became."""
        ...

    async def close(self) -> None: ...
