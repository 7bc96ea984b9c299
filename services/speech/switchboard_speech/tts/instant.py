"""``instant``: no model; every sentence becomes one second of a steady tone, at once.

For whole-system benchmarks (``bench/cluster/capacity.py``): the audio of a sentence
exists as soon as it is asked for, and the dialer paces it to the line as it would
real speech. A fixed length per sentence keeps the bot's turns the same length
whatever the policy words them as (the form policy's answer, an acknowledgement and
the next question, lasts two seconds). Not for calls with people.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from functools import lru_cache

from switchboard_speech.audio import frame_bytes
from switchboard_speech.tts.base import TextToSpeech, Voice

SENTENCE_FRAMES = 50  # 1 s of 20 ms frames
TONE_HZ = 400  # its period divides 20 ms, so frames join without a click
AMPLITUDE = 6000


@lru_cache(maxsize=4)
def tone_frame(sample_rate: int) -> bytes:
    """20 ms of a :data:`TONE_HZ` sine at ``sample_rate``, PCM16."""
    samples = frame_bytes(sample_rate) // 2
    values = (
        round(AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * i / sample_rate)) for i in range(samples)
    )
    return b"".join(v.to_bytes(2, "little", signed=True) for v in values)


class InstantTTS(TextToSpeech):
    """Any voice, any language: :data:`SENTENCE_FRAMES` of :func:`tone_frame` per sentence."""

    name = "instant"

    def resolve(self, voice: Voice) -> Voice:
        return Voice(voice.name or "instant", voice.lang or "en-US", voice.rate)

    async def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        yield tone_frame(sample_rate) * SENTENCE_FRAMES
