"""Smart endpointing on answers said with pauses: early-cut rate and early-end rate.

The paused set (``switchboard_testing.paused_answers``: phone numbers read in groups,
spelled e-mails, dates, "uh…", 300-700 ms pauses between phrases) is voiced by Piper at
8 kHz and fed to one Listen session per answer, in process, with webrtcvad and whisper
tiny.en; the session expects the answer's type. Decoding runs inline (a speculative
transcript is ready the moment the caller pauses: the worst case for cutting early).

* early cut: an answer whose turn ended early before its last phrase (must be 0);
* ended early: an answer whose turn ended after 240 ms of silence, not the full window.

    .venv/bin/python bench/speech/early_cut.py

Prints a table and writes bench/results/speech_early_cut.json.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "voice"))

from common import table, write_results

from switchboard.domain import ClaimFieldType
from switchboard_speech.stt.whisper import WhisperSTT
from switchboard_speech.tts.piper import PiperTTS
from switchboard_speech.vad.webrtc import WebRtcVad
from switchboard_testing.paused_answers import hear_the_set


def main() -> None:
    tts, vad, stt = PiperTTS(), WebRtcVad(), WhisperSTT()
    stt.warm_up()
    try:
        results = asyncio.run(hear_the_set(tts, vad, stt, 8000))
    finally:
        stt.close()
        tts.close()
    rows = []
    for kind in ClaimFieldType:
        mine = [heard for answer, heard in results if answer.kind is kind]
        if mine:
            cut = sum(h.early_cut for h in mine)
            early = sum(h.ended_early for h in mine)
            rows.append([kind.value, len(mine), f"{cut}/{len(mine)}", f"{early}/{len(mine)}"])
    cut_all = sum(h.early_cut for _, h in results)
    early_all = sum(h.ended_early for _, h in results)
    rows.append(["all", len(results), f"{cut_all}/{len(results)}", f"{early_all}/{len(results)}"])
    print(table(["expected", "answers", "early cut", "ended early"], rows))  # noqa: T201
    path = write_results(
        "speech_early_cut",
        {
            "sample_rate": 8000,
            "answers": [
                {
                    "kind": answer.kind.value,
                    "phrases": list(answer.phrases),
                    "early_cut": heard.early_cut,
                    "ended_early": heard.ended_early,
                    "utterances": heard.utterances,
                    "finals": heard.finals,
                }
                for answer, heard in results
            ],
            "early_cut": cut_all,
            "ended_early": early_all,
        },
    )
    print(f"wrote {path}")  # noqa: T201


if __name__ == "__main__":
    main()
