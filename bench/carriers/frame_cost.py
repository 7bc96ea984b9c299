"""What a Twilio Media Streams frame costs the gateway, beyond the softphone's gRPC hop.

The gateway bridges each call's media socket to ``Dialer.Phone`` (docs/carriers.md). Per
20 ms frame it does, caller → bot: JSON parse, base64 decode, µ-law → PCM16; bot →
caller: PCM16 → µ-law, base64, JSON. This times exactly those steps (the code the bridge
runs) on recorded-size frames, one core, and says how much of a core N calls take.

    .venv/bin/python bench/carriers/frame_cost.py [--frames 20000]

Prints a table and writes bench/results/twilio_frame_cost.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from results_io import machine, percentile, write_results

from switchboard import g711

FRAME_PCM = 320  # 20 ms at 8 kHz, PCM16
FRAMES_PER_SEC = 50


def caller_frame(message: str) -> bytes:
    data = json.loads(message)
    return g711.decode(base64.b64decode(data["media"]["payload"], validate=True), "PCMU")


def bot_frame(pcm: bytes, stream_sid: str) -> str:
    payload = base64.b64encode(g711.encode(pcm, "PCMU")).decode()
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    args = parser.parse_args()
    pcm = os.urandom(FRAME_PCM)
    sid = "MZ" + "0" * 32
    inbound = bot_frame(pcm, sid).replace(
        '"event": "media"', '"event": "media", "sequenceNumber": "2"'
    )
    timings: dict[str, list[float]] = {"caller → bot": [], "bot → caller": []}
    for _ in range(args.frames):
        start = time.perf_counter()
        caller_frame(inbound)
        middle = time.perf_counter()
        bot_frame(pcm, sid)
        end = time.perf_counter()
        timings["caller → bot"].append((middle - start) * 1e6)
        timings["bot → caller"].append((end - middle) * 1e6)
    rows = []
    table = [f"{'direction':<14} {'p50 µs':>8} {'p99 µs':>8}"]
    for name, values in timings.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        rows.append({"direction": name, "p50_us": round(p50, 2), "p99_us": round(p99, 2)})
        table.append(f"{name:<14} {p50:>8.2f} {p99:>8.2f}")
    per_call = sum(r["p50_us"] for r in rows) * FRAMES_PER_SEC / 1e6  # core-seconds per second
    table.append(f"one call, both ways: {per_call:.3%} of a core; 100 calls: {per_call * 100:.1%}")
    print("\n".join(table))  # noqa: T201 - a benchmark prints its table
    write_results(
        "twilio_frame_cost",
        {
            "machine": machine(),
            "frames": args.frames,
            "rows": rows,
            "core_share_per_call": per_call,
        },
    )


if __name__ == "__main__":
    main()
