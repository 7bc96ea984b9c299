"""Azure neural voices: SSML with voice, prosody rate and speaking style.

A voice is ``<name>`` or ``<name>:<style>`` (``en-US-JennyNeural:cheerful``);
an empty voice takes the language's default. Audio is requested as raw PCM16 at
the call's rate, so nothing is resampled. Everything up to the SDK boundary is
pure and unit-tested; the SDK itself is an optional extra.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from switchboard.errors import InvalidArgument, Unavailable
from switchboard_speech.azure_sdk import AzureCredentials, import_sdk
from switchboard_speech.tts.base import TextToSpeech, Voice

DEFAULT_VOICES = {
    "en-US": "en-US-JennyNeural",
    "en-GB": "en-GB-SoniaNeural",
    "fr-FR": "fr-FR-DeniseNeural",
    "de-DE": "de-DE-KatjaNeural",
    "es-ES": "es-ES-ElviraNeural",
    "it-IT": "it-IT-ElsaNeural",
    "pt-BR": "pt-BR-FranciscaNeural",
    "zh-CN": "zh-CN-XiaoxiaoNeural",
}
_VOICE_NAME = re.compile(r"^[a-z]{2,3}-[A-Z][A-Za-z]{1,3}-[A-Za-z0-9]+Neural$")
_STYLE = re.compile(r"^[a-z][a-z-]{1,40}$")
OUTPUT_FORMATS = {8000: "Raw8Khz16BitMonoPcm", 16000: "Raw16Khz16BitMonoPcm"}
READ_BYTES = 3200  # 100 ms at 16 kHz


def split_voice(voice: str) -> tuple[str, str]:
    """``name[:style]`` → (name, style)."""
    name, _, style = voice.partition(":")
    return name, style


def rate_percent(rate: float) -> str:
    """Prosody rate 0.75-1.25 → SSML relative rate ("-25%" .. "+25%")."""
    return f"{round((rate - 1.0) * 100):+d}%"


def build_ssml(text: str, voice: Voice) -> str:
    """The SSML document for one sentence; the text is escaped."""
    name, style = split_voice(voice.name)
    body = f"<prosody rate={quoteattr(rate_percent(voice.rate))}>{escape(text)}</prosody>"
    if style:
        body = f"<mstts:express-as style={quoteattr(style)}>{body}</mstts:express-as>"
    return (
        '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" '
        'xmlns:mstts="https://www.w3.org/2001/mstts" '
        f"xml:lang={quoteattr(voice.lang)}><voice name={quoteattr(name)}>{body}</voice></speak>"
    )


def resolve_voice(voice: Voice) -> Voice:
    lang = voice.lang or "en-US"
    name, style = split_voice(voice.name)
    if not name:
        name = DEFAULT_VOICES.get(lang, "")
        if not name:
            raise InvalidArgument(f"no default azure voice for {lang!r}; name a voice")
    if not _VOICE_NAME.match(name):
        raise InvalidArgument(
            f"unknown voice {voice.name!r}; azure voices look like en-US-JennyNeural[:style]"
        )
    if style and not _STYLE.match(style):
        raise InvalidArgument(f"speaking style {style!r} is not a style name (e.g. cheerful)")
    return Voice(name=f"{name}:{style}" if style else name, lang=lang, rate=voice.rate)


class AzureTTS(TextToSpeech):
    """Azure neural text-to-speech, one request per sentence."""

    name = "azure"

    def __init__(self) -> None:
        self._sdk = import_sdk()
        self._credentials = AzureCredentials.from_env()

    def resolve(self, voice: Voice) -> Voice:
        return resolve_voice(voice)

    def _synthesizer(self, sample_rate: int) -> Any:
        config = self._credentials.speech_config(self._sdk)
        config.set_speech_synthesis_output_format(
            getattr(self._sdk.SpeechSynthesisOutputFormat, OUTPUT_FORMATS[sample_rate])
        )
        return self._sdk.SpeechSynthesizer(speech_config=config, audio_config=None)

    async def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()

        def run() -> None:  # an SDK thread: blocking reads, handed to the loop
            try:
                synthesizer = self._synthesizer(sample_rate)
                result = synthesizer.start_speaking_ssml_async(build_ssml(text, voice)).get()
                stream = self._sdk.AudioDataStream(result)
                buffer = bytes(READ_BYTES)
                while (count := stream.read_data(buffer)) > 0:
                    loop.call_soon_threadsafe(chunks.put_nowait, bytes(buffer[:count]))
                loop.call_soon_threadsafe(chunks.put_nowait, None)
            except Exception as exc:
                loop.call_soon_threadsafe(chunks.put_nowait, exc)

        worker = loop.run_in_executor(None, run)
        try:
            while (chunk := await chunks.get()) is not None:
                if isinstance(chunk, BaseException):
                    raise Unavailable("azure speech synthesis failed") from chunk
                yield chunk
        finally:
            await asyncio.wait([worker], timeout=5.0)
