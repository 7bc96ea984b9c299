"""The Twilio REST calls the dialer makes, as async domain operations.

The ``twilio`` SDK is synchronous (``requests``), so each call runs in a worker
thread. ``api_base_url`` in the settings points the SDK at another host than
``api.twilio.com`` (the tests' fake Twilio); Messages live on the same API domain.
Errors are wrapped: a 4xx from Twilio is ``InvalidArgument`` (not retryable),
anything else ``Unavailable``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from switchboard.config import TwilioSettings
from switchboard.errors import FailedPrecondition, InvalidArgument, Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


class TwilioRest:
    """One account's REST client (Calls and Messages)."""

    def __init__(self, settings: TwilioSettings) -> None:
        from twilio.rest import Client  # the registry names the package when it is missing

        # The SDK logs every request's headers at INFO; ours say what matters.
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
        if not settings.account_sid or not settings.auth_token:
            raise FailedPrecondition(
                f"twilio needs dialer.twilio.account_sid and the auth token in "
                f"${settings.auth_token_env}"
            )
        self._client: Any = Client(settings.account_sid, settings.auth_token)
        if settings.api_base_url:
            self._client.api.base_url = settings.api_base_url.rstrip("/")
        self.settings = settings

    async def create_call(
        self, to: str, twiml: str, status_callback: str, machine_detection: str
    ) -> str:
        """Places the call; returns its CallSid."""
        options: dict[str, Any] = {}
        if machine_detection:
            options = {
                "machine_detection": machine_detection,
                "async_amd": "true",
                "async_amd_status_callback": status_callback,
            }
        call = await self._run(
            lambda: self._client.calls.create(
                to=to,
                from_=self.settings.from_number,
                twiml=twiml,
                status_callback=status_callback,
                status_callback_event=STATUS_EVENTS,
                **options,
            )
        )
        return str(call.sid)

    async def update_call(self, sid: str, **changes: str) -> None:
        """``status="completed"`` hangs up, ``twiml=…`` replaces what the call does."""
        await self._run(lambda: self._client.calls(sid).update(**changes))

    async def send_message(self, to: str, body: str) -> str:
        message = await self._run(
            lambda: self._client.messages.create(to=to, from_=self.settings.from_number, body=body)
        )
        return str(message.sid)

    @staticmethod
    async def _run(request: Callable[[], T]) -> T:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            return await asyncio.to_thread(request)
        except TwilioRestException as exc:
            if 400 <= exc.status < 500:
                raise InvalidArgument(f"twilio refused the request ({exc.status})") from exc
            raise Unavailable(f"twilio failed ({exc.status})") from exc
        except (TwilioException, OSError) as exc:
            raise Unavailable("twilio is unreachable") from exc
