"""Smart endpointing never cuts a caller off mid-answer: real voices (Piper), real VAD
(webrtcvad) and the real recogniser (whisper tiny.en), 8 kHz.

Every answer of the paused set (numbers in groups, spelled e-mails, dates, "uh…", with
300-700 ms pauses between phrases) is fed to a Listen session that expects its type.
Decoding runs inline, so a speculative transcript is always ready when the caller
pauses: the worst case. No early end may come before the last phrase.
"""

from __future__ import annotations

from switchboard_speech.engines import SpeechEngines
from switchboard_speech.stt.batch import ClipSpeechToText
from switchboard_testing.paused_answers import hear_the_set


async def test_no_paused_answer_is_cut_before_its_last_phrase(
    real_engines: SpeechEngines,
) -> None:
    stt = real_engines.stt
    assert isinstance(stt, ClipSpeechToText)
    results = await hear_the_set(real_engines.tts, real_engines.vad, stt, 8000)
    cut = [" / ".join(answer.phrases) for answer, heard in results if heard.early_cut]
    assert cut == [], f"cut off mid-answer: {cut}"
    # Not vacuous: complete typed answers do end before the full window.
    assert sum(heard.ended_early for _, heard in results) >= 3
