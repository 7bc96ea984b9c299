"""Callee speech for the cross-service tests and the benchmarks: texts rendered by a
running Speech service (Piper), through lib's :class:`~switchboard.speech_client.SpeechClient`."""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.speech import SpeakConfig
from switchboard.speech_client import SpeechClient


async def spoken_pcm(
    speech_address: str, texts: Sequence[str], sample_rate: int, call_id: str = "test-callee"
) -> list[bytes]:
    """Each text as PCM16 at ``sample_rate``, in the order given; waits for the service."""
    speech = SpeechClient(speech_address, wait_for_ready=True)
    try:
        config = SpeakConfig(call_id, sample_rate, lang="en-US")
        audio = await speech.synthesise(config, texts, turn_id="callee")
    finally:
        await speech.close()
    return [b"".join(frames) for frames in audio]
