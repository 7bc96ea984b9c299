"""How the Twilio routes check Twilio's signatures (the dialer is reached through
:class:`~switchboard_gateway.carrier_link.CarrierLink`, as for ACS)."""

from __future__ import annotations

from switchboard.config import TwilioSettings

PROVIDER = "twilio"
MEDIA_SAMPLE_RATE = 8000


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
