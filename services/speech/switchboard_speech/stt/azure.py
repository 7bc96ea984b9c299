"""Azure Speech recognition: continuous recognition from a push stream, with partials.

One recogniser per utterance (the VAD decides the utterances, as with the local
provider); ``recognizing`` events become partial transcripts, ``recognized``
segments are joined into the final one. SDK callbacks run on SDK threads and
are marshalled onto the event loop. Everything up to the SDK boundary is pure
and unit-tested; the SDK itself is an optional extra.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from switchboard.errors import Unavailable
from switchboard_speech.azure_sdk import AzureCredentials, import_sdk
from switchboard_speech.stt.base import PartialCallback, Recognition, SpeechToText, Utterance

log = logging.getLogger(__name__)

# How long to wait for the service's last segment after the audio is closed.
FINAL_TIMEOUT_SEC = 10.0


def confidence_from_json(detailed: str | None) -> float:
    """NBest[0].Confidence of a detailed-format result; 0 when absent or unreadable."""
    if not detailed:
        return 0.0
    try:
        best = json.loads(detailed).get("NBest") or []
        return float(best[0].get("Confidence", 0.0)) if best else 0.0
    except (ValueError, TypeError, AttributeError):
        return 0.0


def segment_from_event(reason: str, text: str, detailed: str | None) -> tuple[str, float] | None:
    """A ``recognized`` event → (text, confidence); None for NoMatch or empty text."""
    if reason != "RecognizedSpeech" or not text.strip():
        return None
    return text.strip(), confidence_from_json(detailed)


def join_segments(segments: list[tuple[str, float]], lang: str) -> Recognition:
    if not segments:
        return Recognition(text="", confidence=0.0, lang=lang)
    text = " ".join(text for text, _ in segments)
    confidence = sum(conf for _, conf in segments) / len(segments)
    return Recognition(text=text, confidence=confidence, lang=lang)


class AzureUtterance(Utterance):
    def __init__(
        self,
        sdk: Any,
        credentials: AzureCredentials,
        sample_rate: int,
        lang: str,
        on_partial: PartialCallback,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._lang = lang
        self._on_partial = on_partial
        self._segments: list[tuple[str, float]] = []
        self._stopped: asyncio.Future[None] = self._loop.create_future()
        self._error = ""
        config = credentials.speech_config(sdk)
        config.speech_recognition_language = lang
        config.output_format = sdk.OutputFormat.Detailed
        fmt = sdk.audio.AudioStreamFormat(
            samples_per_second=sample_rate, bits_per_sample=16, channels=1
        )
        self._stream = sdk.audio.PushAudioInputStream(stream_format=fmt)
        self._recognizer = sdk.SpeechRecognizer(
            speech_config=config, audio_config=sdk.audio.AudioConfig(stream=self._stream)
        )
        self._recognizer.recognizing.connect(self._sdk_recognizing)
        self._recognizer.recognized.connect(self._sdk_recognized)
        self._recognizer.canceled.connect(self._sdk_canceled)
        self._recognizer.session_stopped.connect(self._sdk_stopped)
        self._recognizer.start_continuous_recognition_async()

    # SDK threads → loop.
    def _sdk_recognizing(self, evt: Any) -> None:
        self._loop.call_soon_threadsafe(self._partial, evt.result.text)

    def _sdk_recognized(self, evt: Any) -> None:
        result = evt.result
        detailed = result.properties.get_property_by_name("SpeechServiceResponse_JsonResult")
        segment = segment_from_event(result.reason.name, result.text, detailed)
        if segment is not None:
            self._loop.call_soon_threadsafe(self._segments.append, segment)

    def _sdk_canceled(self, evt: Any) -> None:
        details = getattr(evt, "error_details", "") or ""
        self._loop.call_soon_threadsafe(self._stop, str(details))

    def _sdk_stopped(self, evt: Any) -> None:
        self._loop.call_soon_threadsafe(self._stop, "")

    # On the loop.
    def _partial(self, text: str) -> None:
        if text:
            done = " ".join(t for t, _ in self._segments)
            self._on_partial(Recognition(f"{done} {text}".strip(), 0.0, self._lang))

    def _stop(self, error: str) -> None:
        self._error = self._error or error
        if not self._stopped.done():
            self._stopped.set_result(None)

    def push(self, pcm: bytes) -> None:
        self._stream.write(pcm)

    async def finish(self) -> Recognition:
        self._stream.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._stopped), FINAL_TIMEOUT_SEC)
        except TimeoutError:
            log.warning("azure recognition did not stop in time; using the segments so far")
        finally:
            await asyncio.to_thread(self._stop_recognizer)
        if self._error and not self._segments:
            # The error text is the SDK's (no audio content); safe to log.
            log.warning("azure recognition canceled", extra={"error": self._error})
            raise Unavailable("azure speech recognition failed; see the service log")
        return join_segments(self._segments, self._lang)

    async def discard(self) -> None:
        self._stream.close()
        await asyncio.to_thread(self._stop_recognizer)

    def _stop_recognizer(self) -> None:
        self._recognizer.stop_continuous_recognition_async().get()


class AzureSTT(SpeechToText):
    """Azure neural recognition, any language the service supports."""

    name = "azure"
    has_partials = True

    def __init__(self) -> None:
        self._sdk = import_sdk()
        self._credentials = AzureCredentials.from_env()

    def utterance(self, sample_rate: int, lang: str, on_partial: PartialCallback) -> Utterance:
        return AzureUtterance(self._sdk, self._credentials, sample_rate, lang, on_partial)
