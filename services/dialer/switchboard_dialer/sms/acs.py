"""The ``acs`` SMS provider: Azure Communication Services SMS (``azure-communication-sms``).

The message is sent from ``acs.caller_id`` and then recorded in the call's transcript,
like the ``log`` provider's; a refusal is an error, never a silent "sent".
"""

from __future__ import annotations

import logging

from switchboard import domain
from switchboard.config import AcsSettings, ConfigError
from switchboard.errors import FailedPrecondition, Unavailable
from switchboard_dialer.ports import CallStore
from switchboard_dialer.sms.base import SmsProvider

try:
    from azure.communication.sms.aio import SmsClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import HttpResponseError, ServiceRequestError
except ImportError as exc:  # the registry turns this into "pip install -r requirements-azure.txt"
    raise ImportError(
        "the acs SMS provider needs azure-communication-sms "
        "(pip install -r requirements-azure.txt)",
        name=exc.name,
    ) from exc

log = logging.getLogger(__name__)
# The SDK logs every request and response at INFO: far too chatty for 50 calls a second.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


class AcsSms(SmsProvider):
    """Sends through ACS; settings from the ``acs`` section (endpoint, access key, caller id)."""

    name = "acs"

    def __init__(self, settings: AcsSettings, store: CallStore) -> None:
        if not (settings.endpoint and settings.access_key and settings.caller_id):
            raise ConfigError(
                "dialer.sms acs needs acs.endpoint, acs.caller_id and acs.access_key "
                "(SWITCHBOARD__ACS__ACCESS_KEY)"
            )
        self._client = SmsClient(settings.endpoint, AzureKeyCredential(settings.access_key))
        self._from = settings.caller_id
        self._store = store

    async def send(self, call_id: str, to: str, text: str) -> str:
        try:
            results = await self._client.send(from_=self._from, to=to, message=text)
        except ServiceRequestError as exc:
            raise Unavailable("ACS SMS is unreachable") from exc
        except HttpResponseError as exc:
            status = exc.status_code or 0
            if status >= 500 or status == 429:
                raise Unavailable(f"ACS SMS: HTTP {status}") from exc
            raise FailedPrecondition(f"ACS SMS refused the message: HTTP {status}") from exc
        result = results[0] if results else None
        if result is None or not result.successful:
            status = result.http_status_code if result is not None else 0
            raise FailedPrecondition(f"ACS SMS did not send the message: HTTP {status}")
        message_id = str(result.message_id)
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
            "sms sent (acs)",
            extra={"call_id": call_id, "message_id": message_id, "pii_to": to, "pii_text": text},
        )
        return message_id

    async def close(self) -> None:
        await self._client.close()
