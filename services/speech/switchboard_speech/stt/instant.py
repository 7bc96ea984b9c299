"""``instant``: no model; every utterance is recognised at once as the same sentence.

For whole-system benchmarks (``bench/cluster/capacity.py``): with it the speech
service still runs its real Listen path (VAD, endpointing, the stream to the
dialer), but recognition costs nothing, so what is measured is the orchestration
around it. Not for calls with people.
"""

from __future__ import annotations

from switchboard_speech.stt.base import PartialCallback, Recognition, SpeechToText, Utterance

INSTANT_TEXT = "This is my answer."


class _InstantUtterance(Utterance):
    def __init__(self, lang: str) -> None:
        self._lang = lang

    def push(self, pcm: bytes) -> None:
        pass

    async def finish(self) -> Recognition:
        return Recognition(INSTANT_TEXT, 1.0, self._lang)


class InstantSTT(SpeechToText):
    """Recognises every utterance as :data:`INSTANT_TEXT`, with no delay."""

    name = "instant"

    def utterance(self, sample_rate: int, lang: str, on_partial: PartialCallback) -> Utterance:
        return _InstantUtterance(lang)
