"""The ``twilio`` SMS provider: Programmable Messaging (``messages.create``).

The message is sent from ``dialer.twilio.from_number`` and also kept in the call's
transcript, like the ``log`` provider's, so the report shows what was sent.
"""

from __future__ import annotations

import logging

from switchboard import domain
from switchboard.config import TwilioSettings
from switchboard_dialer.ports import CallStore
from switchboard_dialer.sms.base import SmsProvider
from switchboard_dialer.telephony.twilio_rest import TwilioRest

log = logging.getLogger(__name__)


class TwilioSms(SmsProvider):
    """Sends through Twilio, then records the message on its call."""

    name = "twilio"
    delivers = True

    def __init__(
        self, settings: TwilioSettings, store: CallStore, rest: TwilioRest | None = None
    ) -> None:
        self._rest = rest or TwilioRest(settings)
        self._store = store

    async def send(self, call_id: str, to: str, text: str) -> str:
        message_id = await self._rest.send_message(to, text)
        await self._store.append_messages(
            call_id,
            [
                domain.Message(
                    persona=domain.Persona.ASSISTANT,
                    action=domain.MessageAction.SMS,
                    content=text,
                )
            ],
        )
        log.info(
            "sms sent (twilio)",
            extra={"call_id": call_id, "message_id": message_id, "pii_to": to},
        )
        return message_id
