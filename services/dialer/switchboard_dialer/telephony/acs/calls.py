"""The Call Automation REST calls the provider makes, over ``azure-communication-callautomation``.

The only module that imports the SDK (lazily, when the provider is chosen); SDK
errors become domain errors here. The endpoint comes from config, not from a
connection string, so tests can point it at a local fake over plain HTTP.
"""

from __future__ import annotations

import logging
from typing import Any

from switchboard.errors import FailedPrecondition, NotFound, Unavailable

log = logging.getLogger(__name__)
# The SDK logs every request and response at INFO: far too chatty for 50 calls a second.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)

MEDIA_SAMPLE_RATE = 16000  # PCM16 16 kHz mono both ways: no codec conversion anywhere

try:
    from azure.communication.callautomation import (
        AudioFormat,
        DtmfTone,
        MediaStreamingAudioChannelType,
        MediaStreamingContentType,
        MediaStreamingOptions,
        PhoneNumberIdentifier,
        StreamingTransportType,
    )
    from azure.communication.callautomation.aio import CallAutomationClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError
except ImportError as exc:  # the registry turns this into "pip install -r requirements-azure.txt"
    raise ImportError(
        "the acs provider needs azure-communication-callautomation "
        "(pip install -r requirements-azure.txt)",
        name=exc.name,
    ) from exc


_TONES = {
    "0": DtmfTone.ZERO,
    "1": DtmfTone.ONE,
    "2": DtmfTone.TWO,
    "3": DtmfTone.THREE,
    "4": DtmfTone.FOUR,
    "5": DtmfTone.FIVE,
    "6": DtmfTone.SIX,
    "7": DtmfTone.SEVEN,
    "8": DtmfTone.EIGHT,
    "9": DtmfTone.NINE,
    "*": DtmfTone.ASTERISK,
    "#": DtmfTone.POUND,
    "A": DtmfTone.A,
    "B": DtmfTone.B,
    "C": DtmfTone.C,
    "D": DtmfTone.D,
}


def _media(transport_url: str) -> Any:
    return MediaStreamingOptions(
        transport_url=transport_url,
        transport_type=StreamingTransportType.WEBSOCKET,
        content_type=MediaStreamingContentType.AUDIO,
        audio_channel_type=MediaStreamingAudioChannelType.MIXED,
        start_media_streaming=True,
        enable_bidirectional=True,
        audio_format=AudioFormat.PCM16_K_MONO,
        enable_dtmf_tones=True,
    )


class AcsCalls:
    """Create, answer, transfer and hang up calls; raises domain errors only."""

    def __init__(self, endpoint: str, access_key: str, caller_id: str) -> None:
        self._client = CallAutomationClient(endpoint, AzureKeyCredential(access_key))
        self._caller_id = caller_id

    async def create(self, to_number: str, callback_url: str, media_url: str) -> str:
        """Dials ``to_number``; returns the call connection id."""
        async with _errors("create_call"):
            result = await self._client.create_call(
                PhoneNumberIdentifier(to_number),
                callback_url,
                source_caller_id_number=PhoneNumberIdentifier(self._caller_id),
                media_streaming=_media(media_url),
            )
        return str(result.call_connection_id)

    async def answer(self, incoming_call_context: str, callback_url: str, media_url: str) -> str:
        async with _errors("answer_call"):
            result = await self._client.answer_call(
                incoming_call_context, callback_url, media_streaming=_media(media_url)
            )
        return str(result.call_connection_id)

    async def transfer(self, connection_id: str, target: str, operation_context: str) -> None:
        """Starts a blind transfer; its outcome comes as a callback."""
        async with _errors("transfer_call_to_participant"):
            await self._client.get_call_connection(connection_id).transfer_call_to_participant(
                PhoneNumberIdentifier(target), operation_context=operation_context
            )

    async def send_dtmf(self, connection_id: str, target: str, digits: str) -> None:
        """Plays ``digits`` (0-9, *, #, A-D) as touch tones to the participant ``target``."""
        async with _errors("send_dtmf_tones"):
            await self._client.get_call_connection(connection_id).send_dtmf_tones(
                [_TONES[digit] for digit in digits], PhoneNumberIdentifier(target)
            )

    async def hang_up(self, connection_id: str) -> None:
        """Ends the call for everyone; a call ACS no longer knows is already over."""
        try:
            async with _errors("hang_up"):
                await self._client.get_call_connection(connection_id).hang_up(is_for_everyone=True)
        except NotFound:
            pass

    async def close(self) -> None:
        await self._client.close()


class _errors:
    """SDK exceptions → domain errors; the operation name goes in the message, not the URL."""

    def __init__(self, operation: str) -> None:
        self._operation = operation

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, kind: type[BaseException] | None, exc: Any, tb: Any) -> bool:
        if exc is None:
            return False
        if isinstance(exc, ResourceNotFoundError):
            raise NotFound(f"ACS {self._operation}: the call is gone") from exc
        if isinstance(exc, ServiceRequestError):
            raise Unavailable(f"ACS {self._operation}: unreachable") from exc
        if isinstance(exc, HttpResponseError):
            status = exc.status_code or 0
            log.warning(
                "ACS request refused", extra={"operation": self._operation, "status": status}
            )
            if status >= 500 or status == 429:
                raise Unavailable(f"ACS {self._operation}: HTTP {status}") from exc
            raise FailedPrecondition(f"ACS {self._operation}: HTTP {status}") from exc
        return False
