"""The ``log`` SMS provider: the message is stored in the call's transcript, never sent."""

from __future__ import annotations

import logging
import uuid

from switchboard import domain
from switchboard_dialer.ports import CallStore
from switchboard_dialer.sms.base import SmsProvider

log = logging.getLogger(__name__)


class LogSms(SmsProvider):
    """Stores the SMS as an assistant ``sms`` message; the offline default."""

    name = "log"

    def __init__(self, store: CallStore) -> None:
        self._store = store

    async def send(self, call_id: str, to: str, text: str) -> str:
        message_id = str(uuid.uuid4())
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
            "sms stored, not sent (log provider)",
            extra={"call_id": call_id, "message_id": message_id, "pii_to": to, "pii_text": text},
        )
        return message_id
