"""Word error rate of the local recogniser (whisper tiny.en) on the generated callee sentences.

Each clip is recognised whole, as the Listen session hands an utterance to the
recogniser. 8 kHz clips are upsampled to 16 kHz inside the provider, as in service.

    .venv/bin/python bench/speech/wer.py                       # piper, 4 conditions
    .venv/bin/python bench/speech/wer.py --engines piper,espeak --limit 20
"""

from __future__ import annotations

import argparse
import time

from common import edits, make_fixtures, normalise, table, write_results

from switchboard_speech.stt.whisper import WhisperSTT


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", default="piper")
    parser.add_argument("--rates", default="8000,16000")
    parser.add_argument("--conditions", default="clean,snr10")
    parser.add_argument("--limit", type=int, default=0, help="first N sentences only")
    args = parser.parse_args()
    engines = tuple(args.engines.split(","))
    rates = tuple(int(r) for r in args.rates.split(","))
    conditions = tuple(args.conditions.split(","))
    count = len(make_fixtures.load_sentences())
    ids = list(range(args.limit or count))
    clips = make_fixtures.ensure_clips(ids, engines, rates, conditions)
    stt = WhisperSTT()
    stt.warm_up()
    rows, cells = [], []
    for engine in engines:
        for rate in rates:
            for condition in conditions:
                selected = [
                    c for c in clips if (c.engine, c.rate, c.condition) == (engine, rate, condition)
                ]
                errors = words = 0
                decode_s = audio_s = 0.0
                samples = []
                for clip in selected:
                    pcm = clip.pcm()
                    started = time.perf_counter()
                    result = stt.recognize(pcm, rate, "en-US")
                    decode_s += time.perf_counter() - started
                    audio_s += len(pcm) / 2 / rate
                    ref, hyp = normalise(clip.text), normalise(result.text)
                    errors += edits(ref, hyp)
                    words += len(ref)
                    samples.append(
                        {
                            "id": clip.id,
                            "ref": clip.text,
                            "hyp": result.text,
                            "edits": edits(ref, hyp),
                        }
                    )
                wer = 100 * errors / max(1, words)
                rtf = decode_s / max(audio_s, 1e-9)
                rows.append(
                    [engine, rate, condition, len(selected), words, f"{wer:.1f}", f"{rtf:.3f}"]
                )
                cells.append(
                    {
                        "engine": engine,
                        "rate": rate,
                        "condition": condition,
                        "utterances": len(selected),
                        "words": words,
                        "wer_percent": wer,
                        "rtf": rtf,
                        "samples": samples,
                    }
                )
    stt.close()
    print(table(["tts", "rate", "condition", "utts", "words", "WER %", "RTF"], rows))  # noqa: T201
    print("results:", write_results("wer", {"cells": cells}))  # noqa: T201


if __name__ == "__main__":
    main()
