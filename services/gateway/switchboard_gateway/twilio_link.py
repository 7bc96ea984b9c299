"""What the Twilio routes need from the dialer, and how they check Twilio's signatures.

Production wires in :class:`~switchboard_gateway.phone_grpc.GrpcPhoneExchange`;
tests may use a fake implementing :class:`CarrierDialer`.
"""

from __future__ import annotations

from typing import Protocol

from switchboard.config import TwilioSettings
from switchboard_gateway.phone_link import PhoneStream

PROVIDER = "twilio"
MEDIA_SAMPLE_RATE = 8000
# Registered for every media stream: the Twilio provider ties it to its call by id.
MEDIA_STREAM_NUMBER = "+10000000000"


class CarrierDialer(Protocol):
    """The dialer, as a carrier's webhooks and media sockets reach it."""

    async def register(self, number: str, sample_rate: int) -> PhoneStream: ...

    async def answer_call(
        self, provider: str, from_number: str, to_number: str, provider_call_id: str
    ) -> str: ...

    async def carrier_status(
        self, provider: str, call_id: str, provider_call_id: str, status: str, answered_by: str
    ) -> bool: ...


class TwilioSignatures:
    """``X-Twilio-Signature`` over the URL Twilio was given (under ``public_url``, not
    whatever host a proxy forwarded) and the POST parameters."""

    def __init__(self, settings: TwilioSettings) -> None:
        from twilio.request_validator import RequestValidator

        self._token = settings.auth_token
        self._public = settings.public_url.rstrip("/")
        self._validator = RequestValidator(self._token)

    @property
    def configured(self) -> bool:
        return bool(self._token and self._public)

    def url(self, path: str, query: str = "") -> str:
        return f"{self._public}{path}" + (f"?{query}" if query else "")

    def valid(self, url: str, params: dict[str, str], signature: str | None) -> bool:
        if not self.configured or not signature:
            return False
        return bool(self._validator.validate(url, params, signature))
